import type { GossipCount, HaveAnnouncer } from './have-announcer.js'
import type { NodeConfig } from './node-config.js'
import type { SignalTopic } from './signal-topic.js'
import type { ChunkRequestOptions, XferBitfield, XferPeer } from './xfer/index.js'
import type { Bitfield } from '../util/bitfield.js'
import type { AbortOptions, PeerId, PeerInfo, TypedEventTarget } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { CID } from 'multiformats/cid'

/** One DHT operation this node ran, for metrics: which, how long, and whether it found anything. */
export interface DhtQueryEvent {
  kind: 'find-providers' | 'provide'
  seconds: number
  /** Providers found, or DHT servers that stored the record. */
  results: number
}

/**
 * Events of a node's network: a peer gained its first connection or lost its last one; an
 * announcement came in, went out or was rejected; a DHT query ended.
 */
export interface NetworkEvents {
  'peer:connect': CustomEvent<PeerId>
  'peer:disconnect': CustomEvent<PeerId>
  gossip: CustomEvent<GossipCount>
  'dht:query': CustomEvent<DhtQueryEvent>
}

export interface FindProvidersOptions extends AbortOptions {
  /** Stop waiting after this long and return what was found (default 10 s). */
  timeoutMs?: number
  /** Return as soon as this many providers are known. */
  maxProviders?: number
}

export interface ProvideOptions extends AbortOptions {
  timeoutMs?: number
}

/**
 * Everything the layers above src/net ask of the network: the host's lifecycle and identity, the DHT
 * (provide, find), per-content announcements on GossipSub, and requests to one peer over xfer.
 * Serving is not here: the content source is handed to the network when it is built.
 */
export interface NetworkApi extends TypedEventTarget<NetworkEvents> {
  readonly config: NodeConfig
  readonly started: boolean
  readonly peerId: PeerId
  /** The addresses this node announces, each ending in /p2p/<peerId>. */
  readonly multiaddrs: Multiaddr[]
  start(): Promise<void>
  /** Bounded: a stop that fails or hangs is logged, never thrown. */
  stop(options?: { timeoutMs?: number }): Promise<void>
  connectedPeers(): PeerId[]
  /** Announces on the DHT that this node provides `cid` (re-provided until stopProviding). */
  provide(cid: CID, options?: ProvideOptions): Promise<number>
  stopProviding(cid: CID, options?: AbortOptions): Promise<void>
  /** Other nodes providing `cid`, self excluded. */
  findProviders(cid: CID, options?: FindProvidersOptions): Promise<PeerInfo[]>
  /** Joins the announcement topic of `cid`; the same announcer if already joined. */
  joinContent(cid: CID | string, chunkCount: number, currentBitfield?: Bitfield): HaveAnnouncer
  /** Leaves the announcement topic of `cid` (publishing LEAVE). */
  leaveContent(cid: CID | string): Promise<void>
  /** Joins the signal topic `name` (small signed messages among its members); the same one if already joined. */
  joinSignals(name: string): SignalTopic
  /** Raw manifest bytes of `cid` from `peer`; the caller verifies them against the CID. */
  getManifest(peer: XferPeer, cid: CID, options?: AbortOptions): Promise<Uint8Array>
  /** The chunks `peer` offers us for `cid`. */
  getBitfield(peer: XferPeer, cid: CID, options?: AbortOptions): Promise<XferBitfield>
  /** Chunk `index` of `cid` from `peer` (unverified); aborting the signal cancels it on the wire. */
  requestChunk(peer: XferPeer, cid: CID, index: number, options?: ChunkRequestOptions): Promise<Uint8Array>
  /** Gives back a chunk from requestChunk once nothing references it; its buffer is reused. */
  releaseChunk(chunk: Uint8Array): void
  /** Drops every xfer stream to `peer`. */
  closePeer(peer: XferPeer): void
}
