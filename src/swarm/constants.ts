/** Chunks picked at random (not rarest-first) until we hold this many, so a newcomer soon has something to trade. */
export const DEFAULT_RANDOM_FIRST = 4
/** In endgame, at most this many peers are asked for the same chunk at once. */
export const DEFAULT_MAX_REQUESTERS_PER_CHUNK = 2
/**
 * The picker walks the peer's own set bits instead of the availability buckets when the peer holds
 * fewer than 1/PEER_SCAN_FACTOR of the pickable chunks: both walks are then short.
 */
export const PEER_SCAN_FACTOR = 8
/** Random probes tried per wanted chunk by the random-first pick before it falls back to a scan. */
export const RANDOM_PICK_PROBES = 32

/** In endgame a peer may have this many requests in flight, so it duplicates only when its own queue ran dry. */
export const DEFAULT_ENDGAME_DEPTH = 1
/** Peers with requests in flight at once, per content. */
export const DEFAULT_MAX_ACTIVE_PEERS = 32
/** Requests in flight to a peer whose rate is not measured yet. */
export const DEFAULT_INITIAL_DEPTH = 2
/**
 * A slow peer gets at least this many requests (a fast one gets its rate x DEFAULT_TARGET_QUEUE_MS).
 * 1 since session 27, with the request cap over all peers (DEFAULT_TARGET_TOTAL_QUEUE_MS): the
 * cap's few requests then go to as many holders, so no holder queues two of ours and a fresh chunk
 * waits behind fewer requests at each. Swarm simulator, 100 peers, seeds 1-3: 0.814 / 0.816 / 0.810
 * against 0.730 / 0.762 / 0.719 with 2 under the same cap (docs/benchmarks.md, session 27). It was 2
 * because a request travels up the receiver's own uplink, busy with its uploads, and with one request
 * in flight a peer's link idles for that trip; with several holders at once the others fill it.
 */
export const DEFAULT_MIN_DEPTH = 1
export const DEFAULT_MAX_DEPTH = 64
/** Bytes requested and not yet received, over all peers of one download (receiver memory). */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 32 * 1024 * 1024
/**
 * Depth is sized so a peer's queue holds about this much work at its measured rate. Short, because
 * an uploader serves its requests in order: a request for a chunk just announced waits behind the
 * whole queue. In the swarm simulator (100 peers, 64 MiB) 250 ms against 1 s: median finish 36.5 s
 * instead of 40.9 s and the origin's egress 1.12 x F instead of 1.29 (docs/simulator.md).
 */
export const DEFAULT_TARGET_QUEUE_MS = 250
/**
 * Requests in flight over all peers are capped at about this much of the download's measured rate
 * (outside endgame): enough to keep the downlink busy, while a chunk asked for does not wait behind
 * a long queue at the receiver's downlink and at its holders. Without the cap each of ~8-16 active
 * peers held 2 requests, and every holder's uplink queue made a fresh chunk's next copy wait
 * ~0.6-0.8 s per generation. Swarm simulator, seed 1: 100 peers 0.761 -> 0.814, 1,000 0.701 -> 0.758,
 * 10,000 0.656 -> 0.721; netns bench, warm: T_last 20.9 -> 19.7 s (means of 6 and 4 runs;
 * docs/benchmarks.md, session 27). Infinity: off.
 */
export const DEFAULT_TARGET_TOTAL_QUEUE_MS = 600
/**
 * The request cap never falls below this many (a download whose rate is not measured yet starts
 * with it). Simulator, 100 peers, seed 1: 4 0.805, 6 0.814, 8 0.807.
 */
export const DEFAULT_MIN_TOTAL_REQUESTS = 6
/**
 * A download whose holdings trail its peers' mean by more than this share of the content is not
 * capped (DEFAULT_TARGET_TOTAL_QUEUE_MS): a late joiner can take something from every peer and needs
 * their throughput, not a short queue; capped, it got less than its share of each busy holder.
 * Simulator `--calibrate` (the bench's staggered starts): 21.9 s with the cap for everyone, 21.2 s
 * with this rule (as without a cap); 100 peers 0.814 either way (docs/benchmarks.md, session 27).
 */
export const DEFAULT_CATCH_UP_LAG = 0.1
/** Time constant of the download's rate (DownloadRate) that sizes the request cap. */
export const DOWNLOAD_RATE_WINDOW_MS = 1_000
/** Weight of the newest sample in a peer's throughput average. */
export const RATE_EWMA_ALPHA = 0.3
/** Timeout of a request before the peer's rate is known. */
export const DEFAULT_INITIAL_REQUEST_TIMEOUT_MS = 30_000
/** No request times out sooner than this, however fast the peer looked. */
export const DEFAULT_MIN_REQUEST_TIMEOUT_MS = 15_000
/** A request times out after this multiple of the time its peer should need for it. */
export const DEFAULT_TIMEOUT_FACTOR = 4
/** Timeouts or failed requests after which a peer is dropped for this content. */
export const DEFAULT_MAX_STRIKES = 3
/** How long a peer that answered 'busy' is left alone (doubling for each further 'busy' in a row). */
export const DEFAULT_BUSY_BACKOFF_MS = 1_000
/**
 * The longest busy back-off. Simulator, 100 peers: 2 s cut the 'busy' answers per download from 728
 * to 436 at the same median finish; 4 s cut them to 324 but a few peers finished ~6 s late.
 */
export const DEFAULT_MAX_BUSY_BACKOFF_MS = 2_000
/**
 * How long a chunk a peer answered 'ask elsewhere' for is taken from other holders before that peer
 * is asked again (and then serves it). Long enough for another holder to deliver a chunk, short
 * enough that a newcomer facing only lying or banned "holders" loses a few seconds, not the download.
 * With BusyUplinkPolicy on, 500 ms did better in the simulator (100 peers: 0.801-0.804 against
 * 0.776-0.783); both stay off until the netns bench agrees (docs/benchmarks.md, session 18, engine).
 */
export const DEFAULT_ELSEWHERE_RETRY_MS = 2_000
/** While stalled, the scheduler also re-checks on this slow timer (new peers and haves wake it at once). */
export const DEFAULT_STALL_RECHECK_MS = 5_000
/** Progress events are emitted at most once per this interval (4/s). */
export const DEFAULT_PROGRESS_INTERVAL_MS = 250
/** Indexes listed in a `stalled` event. */
export const STALLED_INDEXES_SHOWN = 8

/** Peers uploaded to concurrently. */
export const DEFAULT_UPLOAD_SLOTS = 8
/**
 * A slot whose peer asked for nothing for this long is freed. A holder that took everything it wanted
 * from us kept its slot, and our uplink idle, while others were answered 'busy': swarm simulator,
 * 100 peers, seeds 1-3, efficiency 0.687-0.723 with 10 s, 0.728-0.750 with 1 s (0.5 s and 2 s: less).
 */
export const DEFAULT_UPLOAD_SLOT_IDLE_MS = 1_000
/**
 * A slot held this long while others wait is handed to the longest waiter. In a flash crowd most of
 * an uploader's neighbours wait; with 30 s they waited so long that a few finished ~6 s after the
 * median (swarm simulator, 100 peers: T_last 42.6 s, with 5 s 39.7 s at the same median).
 */
export const DEFAULT_UPLOAD_SLOT_MAX_HOLD_MS = 5_000
/**
 * An admitted upload never reported sent (cancelled, stream closed) stops counting as uplink work
 * after this long. Longer than a full queue takes to drain (8 slots x 3 requests of 256 KiB at
 * 20 Mbit/s: 2.5 s), so real work is not forgotten; until then the node refuses as it would anyway.
 */
export const DEFAULT_UPLOAD_BACKLOG_HORIZON_MS = 5_000
/**
 * The uplink is about to idle when at most this many admitted uploads are left (the one on the wire):
 * a request refused then (no upload slot; a first copy of a chunk others hold) is served instead.
 * Swarm simulator, 1,000 peers: efficiency 0.668 -> 0.721 (docs/benchmarks.md, session 18 engine).
 */
export const UPLOAD_IDLE_BACKLOG = 1
/**
 * A request for a chunk at most this many peers are known to hold (the holder's gossip view) is
 * served past the upload slots, like one to an idle uplink: a fresh chunk's next generation then
 * starts at once instead of after a 'busy' back-off. Bounded by RARE_ADMIT_BACKLOG. 0: off.
 * Off by default: swarm simulator with 2, 100 peers 0.753-0.761 -> 0.760-0.770, 1,000 peers unchanged
 * (0.714-0.717), 10,000 peers 0.689 -> 0.684; 4 or 8 holders, or a longer backlog, did worse
 * (docs/benchmarks.md, session 20 sim). `--rare holders=2` in the simulator turns it on.
 */
export const RARE_ADMIT_HOLDERS = 0
/** The rare-chunk admission stops once this many admitted uploads are not yet sent (the queue it may add to). */
export const RARE_ADMIT_BACKLOG = 3
/**
 * BusyUplinkPolicy: from this many uploads admitted and not yet sent, a request for a chunk
 * DEFAULT_BUSY_UPLINK_HOLDERS other peers hold is sent elsewhere. Infinity: off. In the swarm
 * simulator 3 (the one on the wire and two queued) with a 500 ms elsewhere retry gave 0.801-0.804
 * against 0.766-0.771 (100 peers, seeds 1-3), but on the netns bench (1 seeder + 8 receivers, every
 * uplink always queued) requesters bounced between busy receivers and the seeder, which sent
 * 1.50-1.83 x F instead of 1.28-1.31 (docs/benchmarks.md, session 18, engine). Try it with
 * `npm run sim -- --busy backlog=3 --session elsewhereRetryMs=500`.
 */
export const DEFAULT_BUSY_UPLINK_BACKLOG = Infinity
export const DEFAULT_BUSY_UPLINK_HOLDERS = 2
/** A freed slot is kept for the longest waiter for this long. */
export const DEFAULT_UPLOAD_SLOT_RESERVE_MS = 2_000
/** A refused peer that did not ask again within this time leaves the wait list. */
export const DEFAULT_UPLOAD_WAITER_TTL_MS = 10_000

/**
 * The origin refuses to upload a chunk again this soon after its last copy left (the copy is on
 * its way and not announced yet), before and after every chunk went out once.
 */
export const DEFAULT_FIRST_COPY_GRACE_MS = 10_000
/**
 * Once the origin uploaded every chunk, it leaves chunks this many peers hold to them. 1: any
 * holder. With 2 the seeder's extra copies went to chunks the swarm was replicating anyway (swarm
 * simulator, 100 peers: egress 1.11 x F with 2, 1.06 with 1, same finish times).
 */
export const DEFAULT_FIRST_COPY_SPREAD = 1
/**
 * Once every chunk went out, an origin whose uplink would otherwise idle serves chunks fewer
 * than this many peers hold (FirstCopyPolicy idleSpreadCopies). 1 (as spreadCopies: off): in the
 * swarm simulator (100 peers, seeds 1-3) 4 sent 1.11-1.13 x F instead of 1.07-1.08 for the same
 * efficiency (0.755-0.777 against 0.751-0.770): the tail is the swarm's spread, not the origin's time.
 */
export const DEFAULT_FIRST_COPY_IDLE_SPREAD = 1
/**
 * How long a seeder policy keeps sending one peer elsewhere for one chunk before serving it anyway
 * (RefusalWindow). Gossip claims are unchecked: a peer still asking after this found no usable holder.
 * In the swarm simulation a window of 0 (refuse once) made the origin send F x 1.29 instead of 1.00
 * (measured on the origin policy retired in session 22; docs/decisions.md).
 */
export const DEFAULT_REFUSAL_WINDOW_MS = 5_000
/**
 * An origin that sent a chunk as a last resort (its asker had no other usable holder) less than
 * this long ago does not honour a second peer's last resort for it at once: the first copy is on its
 * way and will be announced within about this long, so the second asker is sent elsewhere under the
 * refusal window (and served within DEFAULT_REFUSAL_WINDOW_MS at worst, should that copy's holder be
 * bad too). Netns bench, 3 of 8 receivers corrupting (session 21): every receiver lacking a chunk that
 * only peers it banned held asked for it, the seeder sent one chunk up to seven times within 5 s,
 * and the run's 12 s tail was its uplink carrying 129 such copies one after another. With the rule:
 * 28.0-29.8 MiB of duplicates against 31.0-34.5 (2 interleaved pairs; docs/benchmarks.md).
 */
export const DEFAULT_LAST_RESORT_GRACE_MS = 3_000
/**
 * A peer this many distinct askers named as banned in their chunk requests is a suspect to a
 * seeder's policy: its claims no longer count as copies of a chunk (ClaimReports). 2, so that one
 * asker's word is never enough.
 */
export const DEFAULT_SUSPECT_REPORTERS = 2
/** Banned peers one chunk request names at most (as many as the xfer REQUEST `excluded` field carries: MAX_EXCLUDED_PEERS). */
export const MAX_EXCLUDED_PER_REQUEST = 16
/** Reported peers a seeder's policy tracks per content at most; reports beyond it are dropped. */
export const MAX_REPORTED_PEERS = 1024
