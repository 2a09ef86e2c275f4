/** Defaults of the chunk transfer protocol; every one can be overridden through XferInit. */

export const PROTOCOL_PREFIX = 'shoal'
export const PROTOCOL_NAME = 'xfer'
export const PROTOCOL_VERSION = '1.0.0'
export const XFER_PROTOCOL = `/${PROTOCOL_PREFIX}/${PROTOCOL_NAME}/${PROTOCOL_VERSION}`

/** Value of Frame.version on the wire; a frame carrying any other value closes the stream. */
export const WIRE_VERSION = 1

const KiB = 1024
const MiB = 1024 * KiB

/**
 * Largest body piece in one DATA frame. Big enough that per-frame overhead vanishes, small enough
 * that a frame is far below libp2p's 4 MiB unread-data limit and a CANCEL takes effect quickly.
 */
export const DEFAULT_PIECE_SIZE = 1 * MiB
/** Room for the frame header around a piece (request id, offset, tags). */
export const FRAME_HEADER_ALLOWANCE = 1 * KiB
/** Largest frame either side accepts; a larger length prefix closes the stream. */
export const DEFAULT_MAX_FRAME_SIZE = DEFAULT_PIECE_SIZE + FRAME_HEADER_ALLOWANCE
/**
 * A body's next piece is queued once the stream's write buffer is down to this many bytes: enough
 * headroom that the socket never runs dry between pieces, however small the pieces are.
 */
export const DEFAULT_SEND_LOW_WATER = 1 * MiB
/** Largest chunk a client accepts (the manifest format allows 64 KiB .. 16 MiB). */
export const DEFAULT_MAX_CHUNK_SIZE = 16 * MiB
/** Largest manifest a client accepts. */
export const DEFAULT_MAX_MANIFEST_SIZE = 64 * MiB
/** Longest reject message the server sends (it is diagnostic text only). */
export const MAX_REJECT_MESSAGE_LENGTH = 256

/** A request with no caller signal fails with ERR_XFER_TIMEOUT after this long. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000
/** Opening a stream (dial + protocol negotiation) gives up after this long. */
export const DEFAULT_DIAL_TIMEOUT_MS = 15_000
/**
 * While requests are outstanding, a stream on which nothing arrives for this long is declared dead:
 * its requests fail with ERR_XFER_TIMEOUT so the scheduler can ask someone else.
 */
export const DEFAULT_PROGRESS_TIMEOUT_MS = 30_000
/** A frame that has started arriving must be complete within this long, on either side. */
export const DEFAULT_FRAME_TIMEOUT_MS = 30_000
/** An outbound stream with no request outstanding is closed after this long. */
export const DEFAULT_CLIENT_IDLE_TIMEOUT_MS = 60_000
/** An inbound stream on which the client asks nothing for this long is closed. */
export const DEFAULT_SERVER_IDLE_TIMEOUT_MS = 120_000

/** Requests one inbound stream may have queued; more are answered with REJECT BUSY. */
export const DEFAULT_MAX_QUEUED_REQUESTS = 256
/** Chunk reads the server starts ahead of the one it is sending, to overlap disk and network. */
export const DEFAULT_READ_AHEAD = 2
/** Streams of this protocol per connection, each direction (one per content in transfer). */
export const DEFAULT_MAX_INBOUND_STREAMS = 64
export const DEFAULT_MAX_OUTBOUND_STREAMS = 64
/**
 * Unsent bytes a server stream may buffer. Data frames wait for drain, so only control frames pile
 * up here, and only when a client sends requests but never reads: such a stream is reset.
 */
export const DEFAULT_MAX_WRITE_BUFFER = 8 * MiB
