/**
 * Every error code shoal can raise, in one list. A code is stable across releases and is what
 * programs match on. Each one has an exit code (EXIT_CODE_OF, src/cli/exit-codes.ts) and an HTTP
 * status (HTTP_STATUS_OF, src/api/http-status.ts); both maps are typed over this list, so a code
 * added here without them does not compile. docs/errors.md is the table of all three, checked
 * against this file by test/errors.test.ts (the comment above each code is its meaning there).
 */
export const ErrorCode = {
  // --- anywhere
  /** The operation was aborted through its signal (Ctrl-C, the node stopping, the content removed). */
  ABORTED: 'ERR_ABORTED',
  /** An unexpected failure that no other code describes: a bug; the message and the log say more. */
  INTERNAL: 'ERR_INTERNAL',
  /** A bad option, flag or environment value; the message names it. */
  BAD_CONFIG: 'ERR_BAD_CONFIG',
  /** A method was called on a node or network that has not been started. */
  NOT_STARTED: 'ERR_NOT_STARTED',
  /** `shoal demo`: a receiver's copy differs from the original. */
  DEMO_MISMATCH: 'ERR_DEMO_MISMATCH',

  // --- control API (src/api)
  /** No or wrong bearer token. */
  UNAUTHORIZED: 'ERR_UNAUTHORIZED',
  /** The Host header names neither loopback, the bound address nor SHOAL_API_ALLOW_HOSTS (DNS rebinding). */
  FORBIDDEN_HOST: 'ERR_FORBIDDEN_HOST',
  /** A browser sent the request from a page whose origin is not in SHOAL_API_ALLOW_ORIGINS. */
  FORBIDDEN_ORIGIN: 'ERR_FORBIDDEN_ORIGIN',
  /** A request body that is not declared as application/json. */
  UNSUPPORTED_MEDIA_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  /** A path outside the roots of SHOAL_ALLOW_PATHS. */
  PATH_NOT_ALLOWED: 'ERR_PATH_NOT_ALLOWED',
  /** The API token file is a symlink, not a regular file, not ours or readable by others. */
  BAD_TOKEN_FILE: 'ERR_BAD_TOKEN_FILE',
  /** A malformed request: URL, %-encoding, body not a JSON object, a field missing or mistyped. */
  BAD_REQUEST: 'ERR_BAD_REQUEST',
  /** No route for this method and path. */
  NO_ROUTE: 'ERR_NO_ROUTE',
  /** As many event streams (GET /v1/events) are open as the daemon serves at once; close one. */
  TOO_MANY_STREAMS: 'ERR_TOO_MANY_STREAMS',
  /** No daemon answers at SHOAL_API, or it answered something that is not a control API error. */
  DAEMON: 'ERR_DAEMON',

  // --- data plane (ShoalNode.read, GET /v1/data, shoal cat)
  /** A byte range that starts past the end of the file (or an empty suffix range). */
  RANGE_NOT_SATISFIABLE: 'ERR_RANGE_NOT_SATISFIABLE',
  /** The content has no file at the path asked for (or is a folder and no file was named). */
  NO_SUCH_FILE: 'ERR_NO_SUCH_FILE',

  // --- content (src/content): manifests, CIDs, files being added
  /** The content ID is not a CIDv1 of dag-cbor bytes named by sha2-256. */
  BAD_CID: 'ERR_BAD_CID',
  /** Not a well-formed manifest: bad CBOR, wrong shape, a rule broken (duplicates, clashes, sizes). */
  BAD_MANIFEST: 'ERR_BAD_MANIFEST',
  /** A manifest of a format version this node does not read. */
  BAD_MANIFEST_VERSION: 'ERR_BAD_MANIFEST_VERSION',
  /** Manifest bytes that do not hash to the CID asked for. */
  CID_MISMATCH: 'ERR_CID_MISMATCH',
  /** A manifest over MAX_MANIFEST_BYTES, or with more CBOR items than the decoder may build. */
  MANIFEST_TOO_LARGE: 'ERR_MANIFEST_TOO_LARGE',
  /** An unsafe path or path segment (absolute, `..`, NUL, reserved name, segment over NAME_MAX...). */
  BAD_PATH: 'ERR_BAD_PATH',
  /** A path with more than MAX_PATH_SEGMENTS segments. */
  PATH_TOO_DEEP: 'ERR_PATH_TOO_DEEP',
  /** A path longer than MAX_PATH_BYTES. */
  PATH_TOO_LONG: 'ERR_PATH_TOO_LONG',
  /** File and directory paths together longer than MAX_TOTAL_PATH_BYTES. */
  MANIFEST_PATHS_TOO_LARGE: 'ERR_MANIFEST_PATHS_TOO_LARGE',
  /** A chunk size that is not a power of two from MIN_CHUNK_SIZE to MAX_CHUNK_SIZE. */
  BAD_CHUNK_SIZE: 'ERR_BAD_CHUNK_SIZE',
  /** A file being added is neither a regular file nor a directory (symlink, socket, device...). */
  UNSUPPORTED_FILE: 'ERR_UNSUPPORTED_FILE',
  /** A file changed while it was being added, or a seeded file changed on disk since it was added. */
  SOURCE_CHANGED: 'ERR_SOURCE_CHANGED',

  // --- storage (src/store) and the node's data dir
  /** A file or folder could not be read (missing, permissions, not a regular file). */
  UNREADABLE: 'ERR_UNREADABLE',
  /** A file or folder could not be created or written (permissions, something in the way). */
  NOT_WRITABLE: 'ERR_NOT_WRITABLE',
  /** No space (or quota) left on the device. */
  DISK_FULL: 'ERR_DISK_FULL',
  /** Any other file-system failure; the message carries the system's reason. */
  IO: 'ERR_IO',
  /** A symlink or a non-regular file where shoal would write, or a path escaping the output folder. */
  UNSAFE_PATH: 'ERR_UNSAFE_PATH',
  /** A file or folder is already at a destination and shoal did not create it (see --overwrite). */
  ALREADY_EXISTS: 'ERR_ALREADY_EXISTS',
  /** This node (or the peer asked) does not hold the content or the chunk. */
  NOT_HELD: 'ERR_NOT_HELD',
  /** A chunk does not match its length or digest in the manifest. */
  CHUNK_MISMATCH: 'ERR_CHUNK_MISMATCH',
  /** A chunk or file index outside the content's layout. */
  BAD_INDEX: 'ERR_BAD_INDEX',
  /** A layout the store cannot hold (chunk size, file sizes, digest lengths, chunk count). */
  BAD_LAYOUT: 'ERR_BAD_LAYOUT',
  /** The content's store was used after it was closed (the content was removed or the node stopped). */
  STORE_CLOSED: 'ERR_STORE_CLOSED',
  /** The data dir cannot be created, read or written, or another node holds its lock. */
  BAD_DATA_DIR: 'ERR_BAD_DATA_DIR',

  // --- network (src/net)
  /** The identity key file cannot be read, created or decoded. */
  BAD_IDENTITY: 'ERR_BAD_IDENTITY',
  /** The swarm key file cannot be read or written, already exists, or is malformed. */
  BAD_SWARM_KEY: 'ERR_BAD_SWARM_KEY',
  /** The libp2p node did not start (a listen address that cannot be bound, for one). */
  NET_START: 'ERR_NET_START',
  /** A listen or control API port is already in use. */
  PORT_IN_USE: 'ERR_PORT_IN_USE',
  /** None of the configured bootstrap nodes answered. */
  BOOTSTRAP_UNREACHABLE: 'ERR_BOOTSTRAP_UNREACHABLE',
  /** No peer is connected and no bootstrap node is configured. */
  NO_PEERS: 'ERR_NO_PEERS',
  /** No peer provides the content within the search time, or this node has no such content. */
  NOT_FOUND: 'ERR_NOT_FOUND',
  /** A gossip announcement (HAVE, bitfield, LEAVE) that breaks the rules. */
  BAD_ANNOUNCE: 'ERR_BAD_ANNOUNCE',
  /** A bitfield whose byte length does not fit its bit count, or with bits set past its end. */
  BAD_BITFIELD: 'ERR_BAD_BITFIELD',
  /** A content's announcements were joined twice on one node. */
  ALREADY_JOINED: 'ERR_ALREADY_JOINED',
  /** The peer refused a transfer request for a reason no other code names (see the error's `reason`). */
  XFER_REJECTED: 'ERR_XFER_REJECTED',
  /** The transfer stream failed or closed; outstanding requests are re-queued. */
  XFER_STREAM: 'ERR_XFER_STREAM',
  /** Bytes on the transfer stream broke the protocol; the stream is aborted. */
  XFER_PROTOCOL: 'ERR_XFER_PROTOCOL',

  // --- swarm (src/swarm)
  /** A peer did not answer a request in time (a stalled frame or stream, or far slower than its rate). */
  PEER_TIMEOUT: 'ERR_PEER_TIMEOUT',
  /** The peer went away; its requests are re-queued. */
  PEER_DISCONNECTED: 'ERR_PEER_DISCONNECTED',
  /** The peer refused for lack of upload slots (or is shutting down); it is asked again later. */
  PEER_BUSY: 'ERR_PEER_BUSY',
  /** The peer holds the chunk but asked to be tried after other holders; it serves it when asked again. */
  ASK_ELSEWHERE: 'ERR_ASK_ELSEWHERE',
  /** A duplicate endgame request lost the race, or its peer was removed. */
  REQUEST_CANCELLED: 'ERR_REQUEST_CANCELLED',
  /** A swarm session was used the wrong way (run twice, bad options). */
  SWARM_STATE: 'ERR_SWARM_STATE',

  // --- registry mirror (src/registry)
  /** The registry mirror's upstream did not answer, answered an error, or its token service failed. */
  UPSTREAM: 'ERR_UPSTREAM',
  /** A blob or manifest whose bytes (from the upstream or a peer) do not hash to its digest; never served. */
  DIGEST_MISMATCH: 'ERR_DIGEST_MISMATCH'
} as const

/** One of the codes of ErrorCode. */
export type ShoalErrorCode = typeof ErrorCode[keyof typeof ErrorCode]

const CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode))

/** True when `text` is one of the codes of ErrorCode (e.g. a code read from a daemon's answer). */
export function isErrorCode (text: unknown): text is ShoalErrorCode {
  return typeof text === 'string' && CODES.has(text)
}

/** A layer's own view of the list: `pickCodes('NOT_HELD', ...)` is `{ NOT_HELD: 'ERR_NOT_HELD', ... }`. */
export function pickCodes<K extends keyof typeof ErrorCode> (...keys: K[]): Pick<typeof ErrorCode, K> {
  return Object.freeze(Object.fromEntries(keys.map(k => [k, ErrorCode[k]]))) as Pick<typeof ErrorCode, K>
}

/**
 * Base class of every error a user of shoal can meet. `code` is stable across releases and is what
 * programs should match on; `message` says what went wrong and, where possible, what to do.
 */
export class ShoalError extends Error {
  readonly code: ShoalErrorCode

  constructor (code: ShoalErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** True when `err` is a ShoalError carrying `code`. */
export function isShoalError (err: unknown, code?: ShoalErrorCode): err is ShoalError {
  return err instanceof ShoalError && (code === undefined || err.code === code)
}
