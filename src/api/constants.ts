/** Where `shoal daemon` listens when SHOAL_API is not set. */
export const DEFAULT_API_ADDRESS = '127.0.0.1:7070'
/** Largest request body the control API reads. */
export const MAX_BODY_BYTES = 64 * 1024
/** How often a client polls the daemon while a `get` runs. */
export const POLL_INTERVAL_MS = 500
/** Timeout of one control API request (a `get` is polled, never one long request). */
export const REQUEST_TIMEOUT_MS = 30_000
/** Name of the daemon's token file inside its data dir. */
export const TOKEN_FILE_NAME = 'api.token'
/** Random bytes in a generated API token (256 bits: out of reach of guessing). */
export const TOKEN_BYTES = 32
/**
 * Most API connections open at once. Every connection holds a descriptor that libp2p needs too; the
 * control API has one or a few local callers, so this is far above real use and far below the
 * process's descriptor limit (1024 by default), which 20,000 idle sockets used to exhaust.
 */
export const MAX_API_CONNECTIONS = 256
/** A client must send its request headers within this time. */
export const API_HEADERS_TIMEOUT_MS = 10_000
/** A client must send its whole request within this time. */
export const API_REQUEST_TIMEOUT_MS = 30_000
/** How often the header and request timeouts are checked (Node's default, 30 s, would let them overrun). */
export const API_CONNECTIONS_CHECK_INTERVAL_MS = 1000
/** An idle keep-alive connection is closed after this time. */
export const API_KEEP_ALIVE_TIMEOUT_MS = 5_000
/** A socket with no traffic at all is closed after this time (slow-loris, idle TCP connections). */
export const API_IDLE_SOCKET_TIMEOUT_MS = 10_000
/** How long a browser may cache a CORS preflight answer, in seconds. */
export const CORS_MAX_AGE_S = 600
/** A dashboard link (`shoal dashboard`) must be opened within this time, once. */
export const DASHBOARD_LINK_TTL_MS = 60_000
/** A dashboard cookie stays valid this long; `shoal dashboard` prints a new link after. */
export const DASHBOARD_SESSION_TTL_MS = 12 * 60 * 60 * 1000
/** Unredeemed links and live sessions kept at once; the oldest goes first. */
export const MAX_DASHBOARD_LINKS = 16
export const MAX_DASHBOARD_SESSIONS = 32
/** Name of the dashboard's session cookie. */
export const DASHBOARD_COOKIE = 'shoal_dashboard'
/** Event streams (GET /v1/events) served at once; each holds a connection and node listeners. */
export const MAX_EVENT_STREAMS = 16
/**
 * An event stream sends a comment this often so the idle-socket timeout (API_IDLE_SOCKET_TIMEOUT_MS)
 * never closes a quiet one.
 */
export const EVENT_HEARTBEAT_MS = 4_000
/**
 * How long a data plane request (GET /v1/data) looks for a first provider of a content the node does
 * not hold before answering 404: an HTTP client (curl, a registry pull) is waiting on the socket, and
 * a provider the DHT knows of is found in well under a second on a LAN.
 */
export const DATA_FIND_TIMEOUT_MS = 15_000
