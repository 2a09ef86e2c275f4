import { ErrorCode, isErrorCode, type ShoalErrorCode } from '../errors.js'

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
  /** No bootstrap node could be reached, no peer at all, or the peers failed (went away, timed out, broke the protocol). */
  UNREACHABLE: 4,
  /** Nobody provides the content, or it stalled with no peer holding missing chunks. */
  NOT_FOUND: 5,
  /** A file or folder could not be read or written (permissions, missing path, changed source). */
  IO: 6,
  /** The disk is full. */
  DISK_FULL: 7,
  /** A listen or control API port is already in use, or the network could not listen at all. */
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

/** The exit code of every ShoalError code; typed over the whole list, so a new code must be added here. */
export const EXIT_CODE_OF: Readonly<Record<ShoalErrorCode, ExitCodeValue>> = {
  [ErrorCode.ABORTED]: ExitCode.INTERRUPTED,
  [ErrorCode.INTERNAL]: ExitCode.FAILURE,
  [ErrorCode.BAD_CONFIG]: ExitCode.USAGE,
  [ErrorCode.NOT_STARTED]: ExitCode.FAILURE,
  [ErrorCode.DEMO_MISMATCH]: ExitCode.FAILURE,

  [ErrorCode.UNAUTHORIZED]: ExitCode.DAEMON,
  [ErrorCode.FORBIDDEN_HOST]: ExitCode.DAEMON,
  [ErrorCode.FORBIDDEN_ORIGIN]: ExitCode.DAEMON,
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE]: ExitCode.DAEMON,
  [ErrorCode.PATH_NOT_ALLOWED]: ExitCode.DAEMON,
  // the daemon could not trust its own token file, or the client could not read it
  [ErrorCode.BAD_TOKEN_FILE]: ExitCode.IO,
  [ErrorCode.BAD_REQUEST]: ExitCode.DAEMON,
  [ErrorCode.NO_ROUTE]: ExitCode.DAEMON,
  [ErrorCode.TOO_MANY_STREAMS]: ExitCode.DAEMON,
  [ErrorCode.DAEMON]: ExitCode.DAEMON,

  [ErrorCode.RANGE_NOT_SATISFIABLE]: ExitCode.USAGE,
  [ErrorCode.NO_SUCH_FILE]: ExitCode.NOT_FOUND,

  [ErrorCode.BAD_CID]: ExitCode.BAD_CID,
  [ErrorCode.BAD_MANIFEST]: ExitCode.BAD_CONTENT,
  [ErrorCode.BAD_MANIFEST_VERSION]: ExitCode.BAD_CONTENT,
  [ErrorCode.CID_MISMATCH]: ExitCode.BAD_CONTENT,
  [ErrorCode.MANIFEST_TOO_LARGE]: ExitCode.BAD_CONTENT,
  [ErrorCode.BAD_PATH]: ExitCode.BAD_CONTENT,
  [ErrorCode.PATH_TOO_DEEP]: ExitCode.BAD_CONTENT,
  [ErrorCode.PATH_TOO_LONG]: ExitCode.BAD_CONTENT,
  [ErrorCode.MANIFEST_PATHS_TOO_LARGE]: ExitCode.BAD_CONTENT,
  [ErrorCode.BAD_CHUNK_SIZE]: ExitCode.USAGE,
  [ErrorCode.UNSUPPORTED_FILE]: ExitCode.IO,
  [ErrorCode.SOURCE_CHANGED]: ExitCode.IO,

  [ErrorCode.UNREADABLE]: ExitCode.IO,
  [ErrorCode.NOT_WRITABLE]: ExitCode.IO,
  [ErrorCode.DISK_FULL]: ExitCode.DISK_FULL,
  [ErrorCode.IO]: ExitCode.IO,
  [ErrorCode.UNSAFE_PATH]: ExitCode.IO,
  [ErrorCode.ALREADY_EXISTS]: ExitCode.ALREADY_EXISTS,
  [ErrorCode.NOT_HELD]: ExitCode.NOT_FOUND,
  [ErrorCode.CHUNK_MISMATCH]: ExitCode.UNREACHABLE,
  [ErrorCode.BAD_INDEX]: ExitCode.FAILURE,
  // a layout is built from a manifest that matched its CID: no provider has a better one
  [ErrorCode.BAD_LAYOUT]: ExitCode.BAD_CONTENT,
  [ErrorCode.STORE_CLOSED]: ExitCode.FAILURE,
  [ErrorCode.BAD_DATA_DIR]: ExitCode.IO,

  [ErrorCode.BAD_IDENTITY]: ExitCode.IO,
  [ErrorCode.BAD_SWARM_KEY]: ExitCode.IO,
  [ErrorCode.NET_START]: ExitCode.PORT_IN_USE,
  [ErrorCode.PORT_IN_USE]: ExitCode.PORT_IN_USE,
  [ErrorCode.BOOTSTRAP_UNREACHABLE]: ExitCode.UNREACHABLE,
  [ErrorCode.NO_PEERS]: ExitCode.UNREACHABLE,
  [ErrorCode.NOT_FOUND]: ExitCode.NOT_FOUND,
  // a peer's bad input only reaches the CLI when no other peer could serve instead
  [ErrorCode.BAD_ANNOUNCE]: ExitCode.UNREACHABLE,
  [ErrorCode.BAD_BITFIELD]: ExitCode.UNREACHABLE,
  [ErrorCode.ALREADY_JOINED]: ExitCode.FAILURE,
  [ErrorCode.XFER_REJECTED]: ExitCode.UNREACHABLE,
  [ErrorCode.XFER_STREAM]: ExitCode.UNREACHABLE,
  [ErrorCode.XFER_PROTOCOL]: ExitCode.UNREACHABLE,

  [ErrorCode.PEER_TIMEOUT]: ExitCode.UNREACHABLE,
  [ErrorCode.PEER_DISCONNECTED]: ExitCode.UNREACHABLE,
  [ErrorCode.PEER_BUSY]: ExitCode.UNREACHABLE,
  [ErrorCode.ASK_ELSEWHERE]: ExitCode.UNREACHABLE,
  [ErrorCode.REQUEST_CANCELLED]: ExitCode.FAILURE,
  [ErrorCode.UPSTREAM]: ExitCode.UNREACHABLE,
  [ErrorCode.DIGEST_MISMATCH]: ExitCode.UNREACHABLE,
  [ErrorCode.SWARM_STATE]: ExitCode.FAILURE
}

/** Raw Node.js errno codes that escaped translation into a ShoalError. */
export const ERRNO_EXIT_CODE: Readonly<Record<string, ExitCodeValue>> = {
  EACCES: ExitCode.IO,
  EPERM: ExitCode.IO,
  EROFS: ExitCode.IO,
  ENOENT: ExitCode.IO,
  ENOTDIR: ExitCode.IO,
  EISDIR: ExitCode.IO,
  ENOSPC: ExitCode.DISK_FULL,
  EDQUOT: ExitCode.DISK_FULL,
  EADDRINUSE: ExitCode.PORT_IN_USE,
  EADDRNOTAVAIL: ExitCode.PORT_IN_USE
}

/** Maps a ShoalError code (or a raw Node.js errno code) to the exit code the CLI reports. */
export function exitCodeFor (code: string | undefined): ExitCodeValue {
  if (isErrorCode(code)) return EXIT_CODE_OF[code]
  // own properties only: a code such as "constructor" must not find Object.prototype
  if (code !== undefined && Object.hasOwn(ERRNO_EXIT_CODE, code)) return ERRNO_EXIT_CODE[code]!
  return ExitCode.FAILURE
}
