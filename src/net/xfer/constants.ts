/** Defaults of the chunk transfer protocol; every one can be overridden through XferInit. */

export const PROTOCOL_PREFIX = 'shoal'
export const PROTOCOL_NAME = 'xfer'
// 1.1.0: REJECT may carry ELSEWHERE, which a 1.0.0 decoder refuses as an invalid enum value and
// answers by tearing down the whole stream, so the two must not negotiate each other.
export const PROTOCOL_VERSION = '1.1.0'
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
/**
 * Released chunk buffers a client keeps for reuse. Only chunks between arrival and their file write
 * circulate (a few at a time on one pair), so 64 chunks of the default 256 KiB is plenty, and a
 * swarm's bursts beyond it fall back to fresh buffers.
 */
export const DEFAULT_CHUNK_POOL_BYTES = 16 * MiB
/** Largest chunk a client accepts (the manifest format allows 64 KiB .. 16 MiB). */
export const DEFAULT_MAX_CHUNK_SIZE = 16 * MiB
/** Largest manifest a client accepts. */
export const DEFAULT_MAX_MANIFEST_SIZE = 64 * MiB
/** Longest reject message the server sends (it is diagnostic text only). */
export const MAX_REJECT_MESSAGE_LENGTH = 256
/** Peer ids a REQUEST's `excluded` field carries at most; a server reads no more than these. */
export const MAX_EXCLUDED_PEERS = 16

/** A request with no caller signal fails with ERR_PEER_TIMEOUT after this long. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000
/** Opening a stream (dial + protocol negotiation) gives up after this long. */
export const DEFAULT_DIAL_TIMEOUT_MS = 15_000
/**
 * While requests are outstanding, a stream on which nothing arrives for this long is declared dead:
 * its requests fail with ERR_PEER_TIMEOUT so the scheduler can ask someone else.
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
 * Unsent bytes a server stream may buffer before it is reset. Every frame the server sends waits
 * until at most DEFAULT_SEND_LOW_WATER bytes are queued, so an honest stream peaks at the low water
 * plus one frame (a 1 MiB piece or bitfield and its header, ~2 MiB); twice that leaves slack.
 * It was 8 MiB when refusals skipped the wait: 64 streams that never read held 64 x 8 MiB of tiny
 * REJECT frames, several times their size in buffer objects, and the seeder went from 130 MB to 1.9 GB.
 */
export const DEFAULT_MAX_WRITE_BUFFER = 4 * MiB
/**
 * Requests one inbound stream may have received and not yet answered: queued, being served, or a
 * refusal waiting for the client to read. A swarm session keeps at most 64 requests in flight per
 * peer and content (DEFAULT_MAX_DEPTH in src/swarm/constants.ts, endgame adds one), so an honest
 * client stays far below; a client past this keeps sending without reading and its stream is reset.
 */
export const DEFAULT_MAX_UNANSWERED_REQUESTS = 2 * DEFAULT_MAX_QUEUED_REQUESTS
/**
 * Inbound streams one peer may hold over all its connections; the same as per connection, since a
 * second connection from the same peer (a simultaneous dial) is no reason to hold twice as much.
 */
export const DEFAULT_MAX_INBOUND_STREAMS_PER_PEER = DEFAULT_MAX_INBOUND_STREAMS
/** Streams of one peer reset for flooding before its new streams are refused; an honest client never floods. */
export const DEFAULT_FLOOD_STRIKES = 3
/** How long a peer that flooded keeps being refused; long enough that a flood costs the flooder more than it costs us. */
export const DEFAULT_FLOOD_REFUSAL_MS = 10 * 60_000
/** Peers whose flood strikes are remembered; the oldest is forgotten first, so the record stays bounded too. */
export const MAX_TRACKED_FLOODERS = 1024
