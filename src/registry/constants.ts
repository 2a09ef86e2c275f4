/** Bound of a manifest fetched from the upstream or a peer (bytes); distribution itself refuses 4 MiB+. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024
/** One upstream request's bound until its headers arrive (ms); the body then runs on its own watchdog. */
export const UPSTREAM_HEADERS_TIMEOUT_MS = 30_000
/** An upstream body that sends nothing for this long is abandoned (ms). */
export const UPSTREAM_STALL_MS = 30_000
/** A peer fetch that verifies no chunk for this long is abandoned for the upstream (ms). */
export const PEER_STALL_MS = 10_000
/**
 * How long a node waits for a peer that claimed a blob (is fetching it from the upstream) before
 * fetching it from the upstream itself (ms): the upstream's bytes then cross its uplink once.
 */
export const CLAIM_WAIT_MS = 120_000
/** Blobs from this size (bytes) wait their turn among the mirrors' upstream fetches (AliasClaims.turn); smaller ones go at once. */
export const QUEUE_MIN_BYTES = 1024 * 1024
/** Peers whose blob failed its digest check, per blob, before giving up on peers for it. */
export const MAX_LYING_PEERS = 3
/** Upstream bearer tokens are renewed this long before they expire (ms). */
export const TOKEN_RENEW_MARGIN_MS = 10_000
/** A token whose answer gives no lifetime lives this long (distribution's own default, s). */
export const DEFAULT_TOKEN_LIFETIME_S = 60
/** Folder of the data dir with the registry's digest -> content map. */
export const REGISTRY_STATE_DIR = 'registry'
/** Folder of the managed store where blobs land while they are fetched from the upstream. */
export const INCOMING_DIR = '.incoming'
/** Idle socket bound of the mirror's listener (ms). */
export const REGISTRY_IDLE_SOCKET_TIMEOUT_MS = 120_000
/** Keep-alive of the mirror's connections (ms): longer than registry clients keep them idle (90 s). */
export const REGISTRY_KEEP_ALIVE_MS = 100_000
/** Most concurrent connections to the mirror. */
export const MAX_REGISTRY_CONNECTIONS = 256

/** The manifest media types the mirror asks the upstream for when the client named none. */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json'
]
/** Bound of one blob's fetch once started, from peers or the upstream (ms). */
export const FETCH_BOUND_MS = 30 * 60_000
