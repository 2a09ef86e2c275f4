import type { IncomingMessage } from 'node:http'
import { ShoalError } from '../errors.js'
import { ApiErrorCode } from './api-errors.js'
import { MAX_BODY_BYTES } from './constants.js'

/** Reads a request body of at most MAX_BODY_BYTES that must be a JSON object. */
export async function readJson (req: IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = []
  let size = 0
  for await (const part of req) {
    size += (part as Buffer).length
    if (size > MAX_BODY_BYTES) throw new ShoalError(ApiErrorCode.BAD_REQUEST, `request body over ${MAX_BODY_BYTES} bytes`)
    parts.push(part as Buffer)
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(parts).toString('utf8'))
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object')
    return value as Record<string, unknown>
  } catch {
    throw new ShoalError(ApiErrorCode.BAD_REQUEST, 'request body must be a JSON object')
  }
}

/** `body[key]` as a non-empty string, or a 400. */
export function requireString (body: Record<string, unknown>, key: string): string {
  const v = body[key]
  if (typeof v !== 'string' || v === '') throw new ShoalError(ApiErrorCode.BAD_REQUEST, `"${key}" must be a non-empty string`)
  return v
}

/** `body[key]` as a boolean, or a 400. */
export function requireBoolean (body: Record<string, unknown>, key: string): boolean {
  const v = body[key]
  if (typeof v !== 'boolean') throw new ShoalError(ApiErrorCode.BAD_REQUEST, `"${key}" must be true or false`)
  return v
}

/** `body[key]` as a finite number, or a 400. */
export function requireNumber (body: Record<string, unknown>, key: string): number {
  const v = body[key]
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ShoalError(ApiErrorCode.BAD_REQUEST, `"${key}" must be a number`)
  return v
}
