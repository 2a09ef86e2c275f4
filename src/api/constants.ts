/** Where `shoal daemon` listens when SHOAL_API is not set. */
export const DEFAULT_API_ADDRESS = '127.0.0.1:7070'
/** Largest request body the control API reads. */
export const MAX_BODY_BYTES = 64 * 1024
/** How often a client polls the daemon while a `get` runs. */
export const POLL_INTERVAL_MS = 500
/** Timeout of one control API request (a `get` is polled, never one long request). */
export const REQUEST_TIMEOUT_MS = 30_000
