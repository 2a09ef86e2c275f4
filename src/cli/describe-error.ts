import { isShoalError } from '../util/shoal-error.js'

/** Advice for raw Node.js errors that reached the CLI without a ShoalError around them (ERRNO_EXIT_CODE gives their exit codes). */
const ERRNO_ADVICE: Record<string, string> = {
  EACCES: 'permission denied; choose a path you may use (--data-dir, -o) or fix its permissions',
  EPERM: 'operation not permitted; choose a path you may use (--data-dir, -o) or fix its permissions',
  EROFS: 'the file system is read-only; choose another folder',
  ENOENT: 'no such file or folder; check the path',
  ENOTDIR: 'a part of the path is not a folder; check the path',
  EISDIR: 'expected a file but found a folder; check the path',
  ENOSPC: 'no space left on the device; free some space or choose another folder',
  EDQUOT: 'disk quota exceeded; free some space or choose another folder',
  EADDRINUSE: 'the port is already in use; choose another one or stop the program using it',
  EADDRNOTAVAIL: 'the address is not one of this machine\'s; choose another listen or API address'
}

/** The error's code (ShoalError code or Node.js errno code) and a one-line message for a human. */
export function describeError (err: unknown): { code: string | undefined, message: string } {
  if (isShoalError(err)) return { code: err.code, message: oneLine(err.message) }
  const e = err as (NodeJS.ErrnoException & { address?: string, port?: number }) | undefined
  const code = typeof e?.code === 'string' ? e.code : undefined
  const raw = err instanceof Error ? err.message : String(err)
  const advice = code === undefined ? undefined : ERRNO_ADVICE[code]
  if (advice === undefined) return { code, message: oneLine(raw) }
  const where = e?.path ?? (e?.address !== undefined ? `${e.address}:${e.port ?? ''}` : undefined)
  return { code, message: `${where === undefined ? '' : `${where}: `}${advice}` }
}

function oneLine (text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}
