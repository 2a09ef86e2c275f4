/**
 * Process exit codes of the `shoal` command. They are part of the public interface: scripts match on
 * them, so a code never changes meaning. The README lists them.
 */
export const ExitCode = {
  OK: 0,
  /** Anything not listed below (a bug, an unexpected failure). */
  FAILURE: 1,
  /** Bad command line, flag or environment variable. */
  USAGE: 2,
  /** The content ID is not a valid shoal CID. */
  BAD_CID: 3,
  /** No bootstrap node could be reached, or no peer at all. */
  UNREACHABLE: 4,
  /** Nobody provides the content, or it stalled with no peer holding missing chunks. */
  NOT_FOUND: 5,
  /** A file or folder could not be read or written (permissions, missing path, changed source). */
  IO: 6,
  /** The disk is full. */
  DISK_FULL: 7,
  /** The listen port is already in use. */
  PORT_IN_USE: 8,
  /** The daemon's control API refused or could not be reached. */
  DAEMON: 9,
  /** A file (or folder) is already at the destination and shoal did not create it; see `get --overwrite`. */
  ALREADY_EXISTS: 10,
  /** The content's manifest is invalid or unsafe (it matches its CID, so no provider can serve a better one). */
  BAD_CONTENT: 11,
  /** Interrupted (Ctrl-C / SIGTERM) before the job finished; state is saved. */
  INTERRUPTED: 130
} as const

export type ExitCodeValue = typeof ExitCode[keyof typeof ExitCode]

/** Maps a ShoalError code to the exit code the CLI reports. */
export function exitCodeFor (code: string | undefined): ExitCodeValue {
  switch (code) {
    case 'ERR_BAD_CONFIG':
    case 'ERR_USAGE':
    case 'ERR_BAD_CHUNK_SIZE':
      return ExitCode.USAGE
    case 'ERR_BAD_CID':
      return ExitCode.BAD_CID
    case 'ERR_BAD_MANIFEST':
    case 'ERR_BAD_MANIFEST_VERSION':
    case 'ERR_CID_MISMATCH':
    case 'ERR_MANIFEST_TOO_LARGE':
    case 'ERR_BAD_PATH':
    case 'ERR_PATH_TOO_DEEP':
    case 'ERR_PATH_TOO_LONG':
    case 'ERR_MANIFEST_PATHS_TOO_LARGE':
      return ExitCode.BAD_CONTENT
    case 'ERR_BOOTSTRAP_UNREACHABLE':
    case 'ERR_NO_PEERS':
      return ExitCode.UNREACHABLE
    case 'ERR_NOT_FOUND':
    case 'ERR_NO_PROVIDERS':
    case 'ERR_STALLED':
      return ExitCode.NOT_FOUND
    case 'ERR_UNREADABLE':
    case 'ERR_NOT_WRITABLE':
    case 'ERR_UNSUPPORTED_FILE':
    case 'ERR_FILE_CHANGED':
    case 'ERR_SOURCE_CHANGED':
    case 'ERR_UNSAFE_PATH':
    case 'ERR_BAD_TOKEN_FILE':
    case 'ERR_BAD_IDENTITY':
    case 'ERR_BAD_SWARM_KEY':
    case 'ERR_DATA_DIR':
    case 'ERR_BAD_DATA_DIR':
    case 'ERR_IO':
    case 'EACCES': // raw Node.js errno codes that escaped translation map too
    case 'EPERM':
    case 'EROFS':
    case 'ENOENT':
    case 'ENOTDIR':
    case 'EISDIR':
      return ExitCode.IO
    case 'ERR_DISK_FULL':
    case 'ENOSPC':
    case 'EDQUOT':
      return ExitCode.DISK_FULL
    case 'ERR_PORT_IN_USE':
    case 'EADDRINUSE':
      return ExitCode.PORT_IN_USE
    case 'ERR_DAEMON':
    case 'ERR_API':
    case 'ERR_UNAUTHORIZED': // this and the next four: the control API's refusals (src/api/api-errors.ts)
    case 'ERR_FORBIDDEN_HOST':
    case 'ERR_FORBIDDEN_ORIGIN':
    case 'ERR_UNSUPPORTED_MEDIA_TYPE':
    case 'ERR_PATH_NOT_ALLOWED':
      return ExitCode.DAEMON
    case 'ERR_ALREADY_EXISTS':
      return ExitCode.ALREADY_EXISTS
    case 'ERR_ABORTED':
      return ExitCode.INTERRUPTED
    default:
      return ExitCode.FAILURE
  }
}
