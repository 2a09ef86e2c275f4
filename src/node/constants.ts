/** How long `get` looks for a first provider of the manifest before giving up (ms). */
export const DEFAULT_FIND_TIMEOUT_MS = 60_000
/** Wait between manifest lookups while nobody answers (ms). */
export const MANIFEST_RETRY_MS = 250
/** One manifest or bitfield request's bound (ms). */
export const PEER_QUERY_TIMEOUT_MS = 10_000
/**
 * A download asks this many already connected peers for the manifest while the DHT lookup runs (a
 * fleet's agents are connected to the origin before the content exists; the lookup took 1.2-1.8 s of
 * the warm bench's start and waits on the origin's own provide). Enough to cover a 10-host fleet
 * (bootstrap included); a peer without the content answers UNKNOWN_CONTENT in one round trip, and
 * the stream it opens carries the chunk requests later.
 */
export const CONNECTED_MANIFEST_ASKS = 16
/** While downloading, how often the DHT is asked again for more providers (ms). */
export const REDISCOVER_INTERVAL_MS = 10_000
/** Re-ask a peer for its bitfield at most this often (ms); gossip keeps it fresh in between. */
export const BITFIELD_REFRESH_MS = 5_000
/** Default peers one download talks to at once. */
export const DEFAULT_MAX_PEERS_PER_CONTENT = 32
/** Window of the upload/download rate meters (ms). */
export const RATE_WINDOW_MS = 5_000
/** With no peer connected at all for this long, `get` reports the bootstrap nodes unreachable (ms). */
export const NO_PEERS_TIMEOUT_MS = 15_000
/** Characters of the PeerId (its end: the start is the same for every Ed25519 key) tagging a node's log lines. */
export const LOG_TAG_LENGTH = 6
/** GC watermarks when none are set: start above 90 % of the limit (or disk), stop at 70 %. */
export const DEFAULT_GC_HIGH_PERCENT = 90
export const DEFAULT_GC_LOW_PERCENT = 70
/** How often the cache checks its limits and time-to-idle/live besides after each fetch (ms). */
export const CACHE_GC_INTERVAL_MS = 60_000
/** A content's last use is written to its record at most this often (ms): a kill loses at most this much. */
export const LAST_USE_SAVE_INTERVAL_MS = 60_000
/**
 * Test hook, not a setting: milliseconds an eviction pauses after its first file is deleted, so a
 * crash test can kill the process mid-eviction. Unset in production.
 */
export const TEST_HOOK_EVICT_PAUSE_ENV = 'SHOAL_TEST_HOOK_EVICT_PAUSE_MS'
/**
 * Test hook, not a setting: with `1`, every chunk this node serves has one byte flipped after it was
 * read from the store, so benchmarks and tests can run real corrupting peers (issue 11). Ignored
 * unless TEST_HOOKS_ENV is `1` too, so one stray variable cannot make a production node lie.
 */
export const TEST_HOOK_CORRUPT_UPLOADS_ENV = 'SHOAL_TEST_HOOK_CORRUPT_UPLOADS'
/** Test hook, not a setting: `1` lets the hooks that change what a node serves take effect. */
export const TEST_HOOKS_ENV = 'SHOAL_TEST_HOOKS'
/** Peers whose byte counts one content keeps (the largest); the rest are summed as `others`. */
export const MAX_TRACKED_PEERS_PER_CONTENT = 32
/** Peers remembered as having said they published a content (the flag on their bitfield answer). */
export const MAX_TRACKED_ORIGINS = 64
/**
 * How far ahead of a reader (the data plane, `shoal cat`) its chunks are asked for first. A whole
 * range at once would make a full-file read fetch in file order instead of rarest-first; a window
 * keeps the stream fed while the rest of the content still spreads rarest-first.
 */
export const READ_AHEAD_BYTES = 16 * 1024 * 1024
/** While a read waits for a download's entry to appear (or replace a failed one), how often it looks (ms). */
export const READ_ENTRY_POLL_MS = 10
/** How long one DHT lookup of a content alias waits for a provider (ms): a miss must answer fast. */
export const ALIAS_FIND_TIMEOUT_MS = 2_000
/** Signal topic of alias wants, claims and holders (docs/registry.md, "Who fetches a blob"). */
export const ALIAS_SIGNALS = 'aliases'
/**
 * How long a node that wants an alias listens for others that want it too before the choice of the
 * one that fetches it (ms): every wanter heard in that window is in the choice, so nodes asked at
 * the same moment choose the same one. Signals cross a connected peer in a few ms.
 */
export const CLAIM_GATHER_MS = 500
/** A want counts in the choice this long after it was heard (ms). */
export const WANT_TTL_MS = 5_000
/**
 * A node waiting on a claimer repeats its want this often (ms, under WANT_TTL_MS): when the claimer
 * fails, every waiter already holds the same set of wanters and chooses the same next one at once,
 * however far apart their stall checks and gossip delays put their new wants.
 */
export const WANT_REPEAT_MS = 2_000
/** A claimer repeats its claim (with the bytes it has) this often while it fetches (ms). */
export const CLAIM_REPEAT_MS = 1_000
/** A claim not repeated for this long is taken for a dead claimer (ms). */
export const CLAIM_SILENT_MS = 4_000
/** A claimer whose byte count did not grow for this long is taken for stalled (ms). */
export const CLAIM_STALL_MS = 10_000
/**
 * Most contents fetched from elsewhere (a registry mirror: from the upstream) at one time across the
 * nodes that hear each other's claims; further claimers queue. The upstream's link is shared either
 * way; one after the other, the first blobs are whole early and spread among peers while the next
 * ones still arrive, instead of all finishing together at the end.
 */
export const CLAIM_SLOTS = 2
/** A queued claimer starts anyway after this long (ms): a claim that never moves holds nobody for longer. */
export const CLAIM_QUEUE_MAX_MS = 60_000
/** Aliases whose signals are remembered at once; the oldest is forgotten past this (peers are untrusted). */
export const MAX_SIGNALLED_ALIASES = 1_024
/** How often a waiter re-checks its claimer's liveness between signals (ms). */
export const CLAIM_CHECK_MS = 250
