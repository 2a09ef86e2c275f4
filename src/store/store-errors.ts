import { pickCodes, ShoalError } from '../errors.js'

/** What the store was doing when a file-system call failed; it decides which error code fits. */
export type StoreAction = 'read' | 'write'

/** Error codes the store throws (their meanings are in src/errors.ts). */
export const StoreErrorCode = pickCodes(
  'UNREADABLE', 'NOT_WRITABLE', 'DISK_FULL', 'NOT_HELD', 'CHUNK_MISMATCH', 'BAD_INDEX', 'SOURCE_CHANGED', 'UNSAFE_PATH',
  'ALREADY_EXISTS', 'BAD_LAYOUT', 'STORE_CLOSED', 'IO'
)

/** Turns a Node.js file-system error into a ShoalError whose message names `path` and says what to do. */
export function toStoreError (err: unknown, path: string, action: StoreAction): ShoalError {
  if (err instanceof ShoalError) return err
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  const detail = code ?? (err instanceof Error ? err.message : String(err))
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new ShoalError(StoreErrorCode.DISK_FULL,
        `no space left on the device holding ${path} (${detail}); free some space or choose another folder`, { cause: err })
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return action === 'read'
        ? new ShoalError(StoreErrorCode.UNREADABLE, `cannot read ${path} (${detail}); check its permissions`, { cause: err })
        : new ShoalError(StoreErrorCode.NOT_WRITABLE,
          `cannot write ${path} (${detail}); choose a folder you may write to, or fix its permissions`, { cause: err })
    case 'ENOENT':
    case 'ENOTDIR':
    case 'EISDIR':
    case 'EEXIST':
    case 'ELOOP':
      return action === 'read'
        ? new ShoalError(StoreErrorCode.UNREADABLE, `cannot read ${path} (${detail}); check that it exists and is a regular file`, { cause: err })
        : new ShoalError(StoreErrorCode.NOT_WRITABLE,
          `cannot create ${path} (${detail}); something else is in the way, choose another output folder`, { cause: err })
    default:
      return new ShoalError(StoreErrorCode.IO, `${action} of ${path} failed (${detail})`, { cause: err })
  }
}
