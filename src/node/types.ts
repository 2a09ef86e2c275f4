import type { ServiceFactory } from '../net/index.js'

/** Options of one shoal node. Every field is optional; defaults are in src/node/constants.ts. */
export interface ShoalInit {
  /** Identity key, peer store, DHT records and download state live here. */
  dataDir?: string
  /** Multiaddrs to listen on. */
  listen?: string[]
  /** Multiaddrs to announce instead of the listen addresses. */
  announce?: string[]
  /** Bootstrap multiaddrs, each ending in /p2p/<peer id>. */
  bootstrap?: string[]
  /** Private swarm key file (libp2p pnet); only nodes with the same key connect. */
  swarmKeyFile?: string
  dhtMode?: 'server' | 'client'
  /** Global upload cap in bytes/s; 0 or undefined = unlimited. */
  uploadLimit?: number
  /** Global download cap in bytes/s; 0 or undefined = unlimited. */
  downloadLimit?: number
  /** Most peers one download talks to at once. */
  maxPeersPerContent?: number
  /** Chunk size for content added by this node. */
  chunkSize?: number
  /** Upload slots: peers uploaded to at once. */
  uploadSlots?: number
  /**
   * Tag on every log line of this node (and of its libp2p host), so nodes sharing a process can be
   * told apart. Default: the last characters of its PeerId.
   */
  logTag?: string
  /** Most bytes the managed store (`<dataDir>/store`) may hold; 0 or undefined = no limit (the disk's size). */
  cacheMaxBytes?: number
  /** GC starts once usage passes this percent of the limit (or of the disk with no limit). */
  gcHighPercent?: number
  /** GC evicts until usage is down to this percent of the limit (or of the disk). */
  gcLowPercent?: number
  /** Evict a managed content nobody used for this long (ms); undefined or Infinity = never. */
  cacheTtiMs?: number
  /** Evict a managed content this long after it was fetched (ms); undefined or Infinity = never. */
  cacheTtlMs?: number
  /**
   * libp2p's own metrics implementation (ControlServer.libp2pMetrics() makes one that exports on the
   * control API's /metrics). Opaque here: nothing below src/api knows about Prometheus.
   */
  libp2pMetrics?: ServiceFactory
}

/**
 * Where received bytes came from: `origin`, a peer that says it published the content (unverified);
 * `peer`, any other peer; `upstream`, outside the swarm (the registry mirror's fetches).
 */
export type SourceKind = 'origin' | 'peer' | 'upstream'

/** Verified bytes received, by source kind. */
export type SourceBytes = Record<SourceKind, number>

export type ContentState = 'seeding' | 'downloading' | 'stalled' | 'complete' | 'stopped' | 'error'

/** One piece of content the node holds or is fetching. */
export interface ContentInfo {
  cid: string
  name: string
  /** Where the content lives on disk (the file, or the folder). */
  path: string
  size: number
  chunkSize: number
  chunks: number
  /** Chunks durable on disk (for a download: what a restart after a kill still holds). */
  have: number
  state: ContentState
  peers: number
  uploadedBytes: number
  downloadedBytes: number
  /** Verified bytes received by this node's run, by source kind. */
  received: SourceBytes
  /** Share of `received` that came from peers other than the origin (0..1); absent when nothing was received. */
  peerShare?: number
  /** Set when state is 'error'. */
  error?: string
  errorCode?: string
  /** True when the content lives in the managed store (`<dataDir>/store`), so the cache may evict it. */
  managed?: boolean
  /** Pinned: never evicted. */
  pinned?: boolean
  /** Last use known to the cache (ms since the epoch). */
  lastUsedAt?: number
}

/** Download progress. `have` and `bytes` count only chunks durable on disk (a kill keeps them). */
export interface Progress {
  cid: string
  have: number
  total: number
  bytes: number
  totalBytes: number
  /** Download rate over the last seconds, bytes/s. */
  rateBps: number
  peers: number
  /** Seconds left at the current rate; undefined when unknown. */
  etaSeconds?: number
}

export interface GetOptions {
  /** Output folder; the content is written at `<out>/<name>`. Default: the current directory. */
  out?: string
  signal?: AbortSignal
  onProgress?: (progress: Progress) => void
  /** How long to wait for a first provider before failing with ERR_NOT_FOUND (ms). */
  findTimeoutMs?: number
  /** Peers said to hold the content (e.g. by a signal), asked for its manifest at once, beside the DHT lookup. */
  peers?: string[]
  /**
   * Replace existing files at the destination that shoal did not create. Default false: such a file
   * fails the get with ERR_ALREADY_EXISTS before anything is written. Never replaces a folder.
   */
  overwrite?: boolean
}

/** Options of ShoalNode.stat(): which file of the content, and how long to look for it. */
export interface StatOptions {
  /** A file inside a folder content, as its manifest writes it (`dir/file.bin`); a one-file content needs none. */
  path?: string
  signal?: AbortSignal
  /** How long to look for a first provider when the content is not held (ms; default DEFAULT_FIND_TIMEOUT_MS). */
  findTimeoutMs?: number
}

/** Options of ShoalNode.read(): StatOptions and the byte range. */
export interface ReadOptions extends StatOptions {
  /** First byte to read (default 0). */
  start?: number
  /** Last byte to read, inclusive (default and at most: the file's last byte). */
  end?: number
}

/** The file a read streams, known before any of its bytes are. */
export interface ReadTarget {
  cid: string
  /** The file's path inside the content. */
  path: string
  /** The file's base name. */
  name: string
  /** The file's size in bytes. */
  size: number
  /**
   * Strong HTTP entity tag, quoted: `"<cid>"` for the file of a one-file content, `"<cid>/<path>"`
   * (path %-encoded as by encodeURI) for a file inside a folder content.
   */
  etag: string
  /** True when every chunk of the file is held, so the read waits for no peer. */
  held: boolean
}

/** An open read: its target, the range it streams and the bytes, each chunk verified before it is handed out. */
export interface ContentRead extends ReadTarget {
  start: number
  /** Last byte streamed, inclusive (start - 1 for an empty read). */
  end: number
  stream: AsyncIterable<Uint8Array>
}

export interface GetResult {
  cid: string
  path: string
  size: number
  /** Chunks fetched over the network and made durable by this call (0 when resumed complete). */
  fetchedChunks: number
  elapsedMs: number
  /** Verified bytes of this content received by this node's run, by source kind. */
  received?: SourceBytes
  /** Share of `received` that came from peers other than the origin (0..1). */
  peerShare?: number
}

export interface AddOptions {
  chunkSize?: number
  signal?: AbortSignal
}

export interface AddResult {
  cid: string
  name: string
  path: string
  size: number
  chunks: number
}

export interface NodeStatus {
  peerId: string
  multiaddrs: string[]
  peers: number
  contents: number
  uploadedBytes: number
  downloadedBytes: number
  uploadRateBps: number
  downloadRateBps: number
  uptimeMs: number
  /** Verified bytes received since start, by source kind, over every content. */
  received: SourceBytes
  /** Share of `received` that came from peers other than the origin (0..1); absent when nothing was received. */
  peerShare?: number
}

/** How one chunk request ended, as counted by metrics (`bad-chunk`: bytes arrived but failed verification). */
export type ChunkRequestOutcome = 'ok' | 'busy' | 'not-held' | 'elsewhere' | 'timeout' | 'bad-chunk' | 'disconnected' | 'aborted' | 'error'

/**
 * Hooks into a running node for metrics (ShoalNode.observe). Called synchronously on hot paths:
 * an observer only counts, it never blocks or throws.
 */
export interface NodeObserver {
  /** A chunk request ended; `seconds` is set when its bytes arrived (request to last byte). */
  chunkRequest?(outcome: ChunkRequestOutcome, seconds?: number): void
  /** An announcement was received, published, or rejected by the validator. */
  gossip?(kind: 'in' | 'out' | 'rejected'): void
  /** A DHT query ended. */
  dhtQuery?(kind: 'find-providers' | 'provide', seconds: number): void
}

/** One chunk's state in a content's chunk map. */
export type ChunkMapState = 'held' | 'inflight' | 'missing'

/** What the dashboard shows of one content: its chunk map and who it traded with. */
export interface ContentDetail extends ContentInfo {
  /** One letter per chunk: h held (verified), f in flight, m missing. */
  chunkMap: string
  /** Per chunk, how many other peers announce it (gossip view); empty when not announced. */
  availability: number[]
  downloadRateBps: number
  uploadRateBps: number
  /** Largest per-peer figures (bounded); bytes of the others are summed in `otherPeers`. */
  peerBytes: Array<{ peer: string, received: number, sent: number, origin: boolean, banned: boolean }>
  otherPeers: { received: number, sent: number }
}

export interface StalledEvent {
  cid: string
  missing: number
  missingIndexes: number[]
}

/** A peer sent a chunk that failed verification and is no longer asked for this content. */
export interface BannedEvent {
  cid: string
  peer: string
  reason: string
}

/** A peer gained its first connection to this node, or lost its last one. */
export interface PeerEvent {
  peerId: string
  connected: boolean
}

/** A download failed or stopped; the same error rejects the get() that started it. */
export interface ContentErrorEvent {
  cid?: string
  error: Error
}

/** Events of a shoal node, as libp2p types them: `node.addEventListener('progress', evt => evt.detail)`. */
export interface ShoalEvents {
  progress: CustomEvent<Progress>
  peer: CustomEvent<PeerEvent>
  stalled: CustomEvent<StalledEvent>
  banned: CustomEvent<BannedEvent>
  done: CustomEvent<GetResult>
  error: CustomEvent<ContentErrorEvent>
  /** The cache evicted a content from the managed store (withdrawn, files deleted, forgotten). */
  evicted: CustomEvent<EvictedContent>
}

/** Why the cache evicted a content. */
export type EvictionReason = 'quota' | 'tti' | 'ttl' | 'disk-full'

export interface GcOptions {
  /** Report what would go without evicting anything. */
  dryRun?: boolean
  signal?: AbortSignal
}

/** One content a GC pass evicted (or, in a dry run, would evict). */
export interface EvictedContent {
  cid: string
  name: string
  path: string
  bytes: number
  reason: EvictionReason
  lastUsedAt: number
}

export interface GcReport {
  dryRun: boolean
  evicted: EvictedContent[]
  /** Sum of the evicted contents' sizes. */
  freedBytes: number
  /** Bytes the managed store held before the pass. */
  heldBytes: number
}

/** The managed store as the cache sees it (`node.cacheStats()`, the shoal_cache_* metrics). */
export interface CacheStats {
  /** Bytes of the contents in the managed store (their full sizes, downloads under way included). */
  bytes: number
  contents: number
  pinned: number
  /** The cache limit, 0 when none is set (the disk's size is the limit then). */
  limitBytes: number
  /** Contents evicted since the node started, by reason. */
  evictions: Record<EvictionReason, number>
}
