/**
 * How a virtual peer behaves. 'corrupt' claims every chunk and serves each corrupted; 'relay' is the
 * netns bench's corrupter (SHOAL_TEST_HOOK_CORRUPT_UPLOADS): it downloads like an honest peer,
 * announces what it verified, and serves every chunk it holds corrupted.
 */
export type PeerKind = 'honest' | 'corrupt' | 'relay' | 'liar' | 'staller'

/** The first seeder's upload rule: first-copy, as `shoal seed` applies it, or none (every request served). */
export type SeederPolicy = 'first-copy' | 'none'

export interface PeerSpec {
  /** Uplink and downlink in bytes/s. */
  up: number
  down: number
  /** Joins the swarm at this virtual time (ms). */
  arriveMs: number
  kind: PeerKind
  /** Leaves this long after finishing (Infinity: seeds to the end). */
  seedMs: number
  /** Leaves at this time whether finished or not (churn); Infinity: never. */
  departMs: number
}

export interface SimConfig {
  chunkSize: number
  chunks: number
  originUp: number
  originDown: number
  peers: PeerSpec[]
  policy: SeederPolicy
  /** One-way latency between two hosts, ms (each host adds half of it, +-50%). */
  latencyMs: number
  /** Chance that one gossip delivery (a HAVE batch or a bitfield to one member) is lost. */
  gossipLoss: number
  /** Gossip deliveries are aligned on this grid (ms), so one session handles them in one pass. */
  gossipTickMs: number
  /** Every event's time is rounded up to this grid, ms (0: exact). See VirtualClock. */
  clockResolutionMs: number
  /** From arrival to the first provider lookup's answer (DHT), ms. */
  discoveryMs: number
  /** Providers a newcomer connects to from one lookup. */
  providersPerLookup: number
  /** Peers one receiver keeps per content (production maxPeersPerContent). */
  maxPeers: number
  /** Connections the origin accepts (production connection manager limit). */
  originMaxPeers: number
  /** Upload slots per node (production default 8). */
  uploadSlots: number
  /**
   * Order in which an uplink serves queued requests: 'fifo' as the xfer server does today, or
   * 'rarest' (the chunk fewest peers hold, by the server's gossip view, first): an experiment.
   */
  uplinkOrder: 'fifo' | 'rarest'
  /**
   * How a holder's uplink is fed. 'fifo' (default): one queue over all requesters, one chunk on the
   * wire at a time, a chunk counts as sent when it left the uplink. 'conn': the real xfer server's
   * shape: one FIFO of admitted bodies per requester (its stream), each stream writing bodies ahead
   * into a send buffer of `sendBufferBytes` (the stream's low-water mark plus what the kernel takes),
   * and the uplink draining the connections' buffers in turn. A body in a send buffer counts as
   * sent (UploadBacklog forgets it) and can no longer be cancelled.
   */
  uplinkModel?: 'fifo' | 'conn'
  /** With uplinkModel 'conn': bytes a stream may have buffered before it stops writing the next body. */
  sendBufferBytes?: number
  /**
   * An uplink with nothing queued serves a request past its upload slots and (once every chunk went
   * out) past the origin's first-copy refusals: UploadSlots / FirstCopyPolicy `uplinkIdle`, as
   * production does (xfer-source's UploadBacklog). Default true; false: the old rule, to compare.
   */
  idleAdmit?: boolean
  /** rareRequest options overriding production's (holders, backlog; holders 0: off). Every node then keeps a gossip view. */
  rareOverrides?: Record<string, number>
  /** false: a HAVE batch waits a full interval from its first index (the old rule), not only since the last batch. */
  haveLeading?: boolean
  /** Every holder runs BusyUplinkPolicy with production's defaults (off: backlog Infinity) and busyOverrides; false: not at all. */
  busyUplink?: boolean
  /** BusyUplinkPolicy options overriding production defaults (backlog, holders, refusalWindowMs). */
  busyOverrides?: Record<string, number>
  /** HAVE batch interval, ms (production HAVE_FLUSH_DELAY_MS). */
  haveFlushMs?: number
  /** Experiment: a HAVE for a chunk at most RARE_ADMIT_HOLDERS hold (the node's gossip view) is batched at most this long. */
  haveRareMs?: number
  /** false: the origin ignores the banned peers requests name (the rule before ClaimReports). */
  reports?: boolean
  /** FirstCopyPolicy spreadCopies (production default 1); 1 = never re-upload a chunk someone else holds. */
  firstCopySpread?: number
  /** SwarmSession options overriding production defaults (experiments: e.g. targetQueueMs). */
  sessionOverrides: Record<string, number>
  /** UploadSlots options overriding production defaults (e.g. maxHoldMs). */
  slotOverrides: Record<string, number>
  /** The origin's policy options overriding production defaults (e.g. graceMs, refusalWindowMs). */
  originOverrides: Record<string, number>
  seed: number
  /** The run stops at this virtual time even if some peer is unfinished. */
  untilMs: number
}
