import { logger as defaultLogger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import * as C from './constants.js'
import { XferClientChannel } from './client-channel.js'
import { XferStreamError } from './errors.js'
import { XferServerSession } from './server-session.js'
import { FloodGuard } from './flood-guard.js'
import { ChunkBufferPool } from './chunk-buffer-pool.js'
import type { XferChannelOptions } from './client-channel.js'
import type { XferSessionOptions } from './server-session.js'
import type { ChunkRequestOptions, XferBitfield, XferClient, XferComponents, XferInit, XferPeer } from './types.js'
import type { AbortOptions, Connection, Logger, PeerId, Startable, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { CID } from 'multiformats/cid'

/**
 * The chunk transfer protocol, both ends: as a server it answers inbound `/shoal/xfer/1.1.0`
 * streams from the content source; as a client it keeps one lazily opened stream per
 * (peer, content) and pipelines requests over it.
 */
export class XferProtocol implements Startable, XferClient {
  readonly protocol: string
  readonly #components: XferComponents
  readonly #log: Logger
  readonly #channelOptions: XferChannelOptions
  readonly #sessionOptions: XferSessionOptions
  readonly #maxInboundStreams: number
  readonly #maxOutboundStreams: number
  readonly #dialTimeout: number
  /** Outbound channels by peer, then by content CID. */
  readonly #channels = new Map<string, Map<string, XferClientChannel>>()
  readonly #sessions = new Set<XferServerSession>()
  /** Inbound sessions by remote peer, for the per-peer bound and for dropping a flooder's streams at once. */
  readonly #sessionsByPeer = new Map<string, Set<XferServerSession>>()
  readonly #floodGuard: FloodGuard
  readonly #chunkPool: ChunkBufferPool
  #started = false
  #stopController = new AbortController()

  constructor (components: XferComponents, init: XferInit = {}) {
    this.#components = components
    this.protocol = init.protocol ?? C.XFER_PROTOCOL
    this.#log = components.logger?.forComponent('shoal:net:xfer') ?? defaultLogger('shoal:net:xfer')
    const pieceSize = init.pieceSize ?? C.DEFAULT_PIECE_SIZE
    const maxFrameSize = init.maxFrameSize ?? Math.max(C.DEFAULT_MAX_FRAME_SIZE, pieceSize + C.FRAME_HEADER_ALLOWANCE)
    this.#chunkPool = new ChunkBufferPool(init.chunkPoolBytes ?? C.DEFAULT_CHUNK_POOL_BYTES)
    this.#channelOptions = {
      maxFrameSize,
      maxChunkSize: init.maxChunkSize ?? C.DEFAULT_MAX_CHUNK_SIZE,
      maxManifestSize: init.maxManifestSize ?? C.DEFAULT_MAX_MANIFEST_SIZE,
      requestTimeout: init.requestTimeout ?? C.DEFAULT_REQUEST_TIMEOUT_MS,
      progressTimeout: init.progressTimeout ?? C.DEFAULT_PROGRESS_TIMEOUT_MS,
      frameTimeout: init.frameTimeout ?? C.DEFAULT_FRAME_TIMEOUT_MS,
      idleTimeout: init.clientIdleTimeout ?? C.DEFAULT_CLIENT_IDLE_TIMEOUT_MS,
      chunkPool: this.#chunkPool
    }
    this.#sessionOptions = {
      maxFrameSize,
      pieceSize,
      sendLowWater: init.sendLowWater ?? C.DEFAULT_SEND_LOW_WATER,
      frameTimeout: init.frameTimeout ?? C.DEFAULT_FRAME_TIMEOUT_MS,
      idleTimeout: init.serverIdleTimeout ?? C.DEFAULT_SERVER_IDLE_TIMEOUT_MS,
      maxQueuedRequests: init.maxQueuedRequests ?? C.DEFAULT_MAX_QUEUED_REQUESTS,
      readAhead: init.readAhead ?? C.DEFAULT_READ_AHEAD,
      // an honest stream holds up to the low water plus one whole frame (see DEFAULT_MAX_WRITE_BUFFER)
      maxWriteBuffer: init.maxWriteBuffer ?? Math.max(C.DEFAULT_MAX_WRITE_BUFFER, 2 * ((init.sendLowWater ?? C.DEFAULT_SEND_LOW_WATER) + maxFrameSize)),
      maxUnansweredRequests: init.maxUnansweredRequests ?? Math.max(C.DEFAULT_MAX_UNANSWERED_REQUESTS, 2 * (init.maxQueuedRequests ?? C.DEFAULT_MAX_QUEUED_REQUESTS))
    }
    this.#floodGuard = new FloodGuard({
      maxStreamsPerPeer: init.maxInboundStreamsPerPeer ?? C.DEFAULT_MAX_INBOUND_STREAMS_PER_PEER,
      strikes: init.floodStrikes ?? C.DEFAULT_FLOOD_STRIKES,
      refusalMs: init.floodRefusalMs ?? C.DEFAULT_FLOOD_REFUSAL_MS,
      maxTracked: C.MAX_TRACKED_FLOODERS
    })
    this.#maxInboundStreams = init.maxInboundStreams ?? C.DEFAULT_MAX_INBOUND_STREAMS
    this.#maxOutboundStreams = init.maxOutboundStreams ?? C.DEFAULT_MAX_OUTBOUND_STREAMS
    this.#dialTimeout = init.dialTimeout ?? C.DEFAULT_DIAL_TIMEOUT_MS
    if (pieceSize + C.FRAME_HEADER_ALLOWANCE > maxFrameSize) {
      throw new RangeError(`pieceSize ${pieceSize} does not fit in maxFrameSize ${maxFrameSize}`)
    }
  }

  readonly [Symbol.toStringTag] = '@shoal/xfer'

  isStarted (): boolean {
    return this.#started
  }

  /** Registers the stream handler. */
  async start (): Promise<void> {
    if (this.#started) return
    this.#stopController = new AbortController()
    await this.#components.registrar.handle(this.protocol, (stream, connection) => { this.#onStream(stream, connection) }, {
      maxInboundStreams: this.#maxInboundStreams,
      maxOutboundStreams: this.#maxOutboundStreams
    })
    this.#started = true
  }

  /** Unregisters the handler and resets every stream of this protocol. */
  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    this.#stopController.abort()
    await this.#components.registrar.unhandle(this.protocol)
    const err = new XferStreamError('the transfer protocol is stopping')
    for (const session of [...this.#sessions]) session.abort(err)
    for (const peer of [...this.#channels.keys()]) this.#closePeerKey(peer, err)
  }

  /** Fetches the raw manifest bytes of `cid` from `peer`. */
  async getManifest (peer: XferPeer, cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    return this.#channel(peer, cid).request('manifest', 0, options)
  }

  /** Fetches the bitfield `peer` shows us for `cid`. */
  async getBitfield (peer: XferPeer, cid: CID, options?: AbortOptions): Promise<XferBitfield> {
    return this.#channel(peer, cid).request('bitfield', 0, options)
  }

  /** Fetches chunk `index` of `cid` from `peer`; aborting the signal sends CANCEL. */
  async requestChunk (peer: XferPeer, cid: CID, index: number, options?: ChunkRequestOptions): Promise<Uint8Array> {
    if (!Number.isSafeInteger(index) || index < 0 || index > 0xffffffff) {
      throw new RangeError(`chunk index ${index} is not a uint32`)
    }
    return this.#channel(peer, cid).request('chunk', index, options)
  }

  /** Takes back a chunk from requestChunk that the caller no longer references; its memory is reused. */
  releaseChunk (chunk: Uint8Array): void {
    this.#chunkPool.release(chunk)
  }

  /** Drops every outbound stream to `peer`. */
  closePeer (peer: XferPeer): void {
    this.#closePeerKey(peer.toString(), new XferStreamError(`streams to ${peer.toString()} were closed locally`))
  }

  #closePeerKey (peer: string, err: Error): void {
    const channels = this.#channels.get(peer)
    if (channels === undefined) return
    this.#channels.delete(peer)
    for (const channel of channels.values()) channel.close(err)
  }

  #channel (peer: XferPeer, cid: CID): XferClientChannel {
    if (!this.#started) throw new XferStreamError('the transfer protocol is not started')
    const peerKey = peer.toString()
    const cidKey = cid.toString()
    let channels = this.#channels.get(peerKey)
    const existing = channels?.get(cidKey)
    if (existing !== undefined && !existing.closed) return existing
    if (channels === undefined) {
      channels = new Map()
      this.#channels.set(peerKey, channels)
    }
    const peerId: PeerId = typeof peer === 'string' ? peerIdFromString(peer) : peer
    const channel = new XferClientChannel(cid, this.#open(peerId), this.#channelOptions, this.#log, closed => {
      const current = this.#channels.get(peerKey)
      if (current?.get(cidKey) !== closed) return
      current.delete(cidKey)
      if (current.size === 0) this.#channels.delete(peerKey)
    })
    channels.set(cidKey, channel)
    return channel
  }

  async #open (peer: PeerId): Promise<Stream> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.#dialTimeout), this.#stopController.signal])
    return this.#components.dialer.dialProtocol(peer, this.protocol, { signal })
  }

  #onStream (stream: Stream, connection: Connection): void {
    if (!this.#started) {
      stream.abort(new XferStreamError('the transfer protocol is stopping'))
      return
    }
    const peer = connection.remotePeer.toString()
    const open = this.#sessionsByPeer.get(peer)
    const refusal = this.#floodGuard.refusal(peer, open?.size ?? 0)
    if (refusal !== undefined) {
      stream.abort(new XferStreamError(refusal))
      return
    }
    const session = new XferServerSession(stream, peer, this.#components.source, this.#sessionOptions, this.#log, closed => {
      this.#removeSession(closed)
    }, flooded => { this.#onFlood(flooded.peer) })
    this.#sessions.add(session)
    let peerSessions = this.#sessionsByPeer.get(peer)
    if (peerSessions === undefined) {
      peerSessions = new Set()
      this.#sessionsByPeer.set(peer, peerSessions)
    }
    peerSessions.add(session)
    session.start()
  }

  #removeSession (session: XferServerSession): void {
    this.#sessions.delete(session)
    const peerSessions = this.#sessionsByPeer.get(session.peer)
    peerSessions?.delete(session)
    if (peerSessions?.size === 0) this.#sessionsByPeer.delete(session.peer)
  }

  #onFlood (peer: string): void {
    const verdict = this.#floodGuard.strike(peer)
    // one line per peer and state change, never per frame or per stream
    if (verdict === 'first') this.#log.error('%s sends xfer requests without reading the answers; resetting its streams', peer)
    if (verdict !== 'refused') return
    this.#log.error('%s kept flooding xfer streams; refusing its streams for %d s', peer, Math.round(this.#floodGuard.refusalMs / 1000))
    const err = new XferStreamError(`${peer} floods xfer streams`)
    for (const session of [...this.#sessionsByPeer.get(peer) ?? []]) session.abort(err)
  }
}

/** Internal libp2p components a service receives; a narrow view of them. */
export interface XferServiceComponents {
  registrar: XferComponents['registrar']
  connectionManager: {
    openStream(peer: PeerId | Multiaddr | Multiaddr[], protocol: string | string[], options?: AbortOptions): Promise<Stream>
  }
  logger?: XferComponents['logger']
}

/** A libp2p service factory: `services: { xfer: xfer({ source }) }`. */
export function xfer (init: XferInit & { source?: XferComponents['source'] } = {}): (components: XferServiceComponents) => XferProtocol {
  return (components) => new XferProtocol({
    registrar: components.registrar,
    dialer: { dialProtocol: async (peer, protocols, options) => components.connectionManager.openStream(peer, protocols, options) },
    source: init.source,
    logger: components.logger
  }, init)
}
