import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'

/** Smallest legal chunk size; keeps test files small while exercising real boundaries. */
export const C = 64 * 1024

/** A fresh temp dir removed when the current test file finishes. */
export async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-content-'))
  after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

export function sha256 (data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest())
}

/** Reference chunk digests computed by slicing the whole buffer. */
export function expectedChunks (data: Uint8Array, chunkSize: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let off = 0; off < data.length; off += chunkSize) out.push(sha256(data.subarray(off, off + chunkSize)))
  return out
}

export function randomData (size: number): Uint8Array {
  return new Uint8Array(randomBytes(size))
}
