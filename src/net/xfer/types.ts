import type { AbortOptions, ComponentLogger, PeerId, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { CID } from 'multiformats/cid'

/** A peer as the swarm names it: a PeerId or its string form. */
export type XferPeer = PeerId | string

/** A BITFIELD answer: what the peer offers, and whether it says it published the content. */
export interface XferBitfield {
  chunkCount: number
  bytes: Uint8Array
  /** The server added this content itself. Unverified: shown to users, never used for policy. */
  origin?: boolean
}

/** Options of one chunk request. */
export interface ChunkRequestOptions extends AbortOptions {
  /** The asker has no other source for this chunk (REQUEST last_resort): a server that would send it elsewhere serves it. */
  lastResort?: boolean
  /** The peers the asker banned (REQUEST excluded); at most MAX_EXCLUDED_PEERS are sent. */
  excluded?: readonly string[]
}

/** What the swarm scheduler asks of remote peers. */
export interface XferClient {
  /** Raw manifest bytes; the caller verifies them against the CID. */
  getManifest(peer: XferPeer, cid: CID, options?: AbortOptions): Promise<Uint8Array>
  /** The chunks the peer offers to us for this content. */
  getBitfield(peer: XferPeer, cid: CID, options?: AbortOptions): Promise<XferBitfield>
  /** One chunk's bytes (unverified). Many may be in flight per peer; aborting sends CANCEL. */
  requestChunk(peer: XferPeer, cid: CID, index: number, options?: ChunkRequestOptions): Promise<Uint8Array>
  /**
   * Gives back a buffer requestChunk resolved with, once nothing references it any more (it will be
   * overwritten by a later chunk). Optional: a chunk never released is ordinary garbage.
   */
  releaseChunk(chunk: Uint8Array): void
  /** Drops every stream to that peer; its outstanding requests fail with ERR_XFER_STREAM. */
  closePeer(peer: XferPeer): void
}

/** What the server side serves from; the orchestration layer implements it. */
export interface XferContentSource {
  manifestBytes(cid: CID): Uint8Array | undefined
  /** The chunks this node offers for the content (the same answer to every peer). */
  bitfield(cid: CID): XferBitfield | undefined
  /**
   * Upload-slot / seeder policy, asked when a chunk request arrives. 'elsewhere': held, but the asker
   * should try other holders first (REJECT ELSEWHERE, never NOT_HELD, so its view of us stays intact).
   * `lastResort`: the asker says it has no other source (REQUEST last_resort); `excluded`: the peers
   * it says it banned (at most MAX_EXCLUDED_PEERS, unchecked).
   */
  admit?(cid: CID, peer: string, index: number, lastResort?: boolean, excluded?: readonly string[]): 'ok' | 'busy' | 'elsewhere' | 'not-held'
  /** May throw ShoalError ERR_NOT_HELD / ERR_BAD_INDEX / ERR_SOURCE_CHANGED. */
  readChunk(cid: CID, index: number, options?: AbortOptions): Promise<Uint8Array>
  /** Global upload token bucket, awaited before each DATA piece is sent. */
  throttleUpload?(bytes: number, options?: AbortOptions): Promise<void>
  /** Called once a chunk's last byte has left the stream's write buffer (never for a body the stream dropped). */
  onUploaded?(cid: CID, peer: string, index: number, bytes: number): void
}

/** The narrow slice of libp2p (a Libp2p node satisfies it) that XferProtocol needs. */
export interface XferComponents {
  registrar: {
    handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
    unhandle(protocol: string, options?: AbortOptions): Promise<void>
  }
  dialer: {
    dialProtocol(peer: PeerId | Multiaddr | Multiaddr[], protocols: string | string[], options?: AbortOptions): Promise<Stream>
  }
  /** Without one, the server answers every request with REJECT UNKNOWN_CONTENT. */
  source?: XferContentSource
  logger?: ComponentLogger
}

/** Options; every field is optional and defaults to the value in constants.ts. */
export interface XferInit {
  protocol?: string
  pieceSize?: number
  sendLowWater?: number
  maxFrameSize?: number
  maxChunkSize?: number
  maxManifestSize?: number
  requestTimeout?: number
  dialTimeout?: number
  progressTimeout?: number
  frameTimeout?: number
  clientIdleTimeout?: number
  serverIdleTimeout?: number
  maxQueuedRequests?: number
  readAhead?: number
  maxInboundStreams?: number
  maxOutboundStreams?: number
  maxWriteBuffer?: number
  maxUnansweredRequests?: number
  maxInboundStreamsPerPeer?: number
  floodStrikes?: number
  floodRefusalMs?: number
  chunkPoolBytes?: number
}
