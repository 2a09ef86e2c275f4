import { TypedEventEmitter } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { ShoalError } from '../util/shoal-error.js'
import { FIND_PROVIDERS_TIMEOUT_MS, NETWORK_STOP_TIMEOUT_MS, PROVIDE_RETRY_INTERVAL_MS, PROVIDE_TIMEOUT_MS } from './constants.js'
import { createShoalLibp2p } from './create-libp2p.js'
import { HaveAnnouncer } from './have-announcer.js'
import { resolveNodeConfig } from './node-config.js'
import { SignalTopic } from './signal-topic.js'
import { xfer } from './xfer/index.js'
import type { ServiceFactory, ShoalLibp2p } from './create-libp2p.js'
import type { FindProvidersOptions, NetworkApi, NetworkEvents, ProvideOptions } from './network-api.js'
import type { NodeConfig, NodeConfigInput } from './node-config.js'
import type { ChunkRequestOptions, XferBitfield, XferContentSource, XferInit, XferPeer, XferProtocol } from './xfer/index.js'
import type { Bitfield } from '../util/bitfield.js'
import type { AbortOptions, ComponentLogger, Logger, PeerId, PeerInfo } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { CID } from 'multiformats/cid'

export interface ShoalNetworkOptions {
  /** What this node serves over `/shoal/xfer`; without one, every request is answered UNKNOWN_CONTENT. */
  source?: XferContentSource
  /** Options of the xfer protocol (timeouts, bounds); defaults in src/net/xfer/constants.ts. */
  xfer?: XferInit
  /** The node's logger, handed to libp2p and every net module (see nodeLogger). */
  logger?: ComponentLogger
  /** libp2p's metrics implementation, if its own metrics are wanted. */
  metrics?: ServiceFactory
}

/**
 * One node's network: the libp2p host with its DHT, GossipSub and the xfer protocol, and the only
 * code that touches them. The layers above call its methods (NetworkApi) and never see libp2p.
 */
export class ShoalNetwork extends TypedEventEmitter<NetworkEvents> implements NetworkApi {
  readonly config: NodeConfig
  readonly #options: ShoalNetworkOptions
  readonly #logger: ComponentLogger
  readonly #log: Logger
  #node?: ShoalLibp2p
  #xfer?: XferProtocol
  readonly #announcers = new Map<string, HaveAnnouncer>()
  readonly #signals = new Map<string, SignalTopic>()
  // CIDs whose last provide reached no DHT server; retried until one stores the record.
  readonly #unprovided = new Map<string, CID>()
  readonly #providing = new Map<string, CID>()
  #retryTimer?: ReturnType<typeof setInterval>
  #shutdown?: AbortController

  constructor (config: NodeConfigInput | NodeConfig, options: ShoalNetworkOptions = {}) {
    super()
    this.config = resolveNodeConfig(config)
    this.#options = options
    this.#logger = options.logger ?? defaultLogger()
    this.#log = this.#logger.forComponent('shoal:net:network')
  }

  /** Creates and starts the libp2p node (identity, datastore, listeners, bootstrap dialing). */
  async start (): Promise<void> {
    if (this.#node !== undefined) return
    const node = await createShoalLibp2p(this.config, {
      extraServices: { xfer: xfer({ ...this.#options.xfer, source: this.#options.source }) },
      logger: this.#logger,
      ...(this.#options.metrics === undefined ? {} : { metrics: this.#options.metrics })
    })
    node.addEventListener('peer:connect', this.#onConnect)
    node.addEventListener('peer:disconnect', this.#onDisconnect)
    try {
      await node.start()
    } catch (err) {
      await Promise.resolve(node.stop()).catch(() => {})
      throw new ShoalError('ERR_NET_START', `cannot start the network node: ${(err as Error).message}; check the listen addresses are free`, { cause: err })
    }
    this.#node = node
    this.#xfer = node.services.xfer as XferProtocol
    this.#shutdown = new AbortController()
    this.#retryTimer = setInterval(() => { this.#retryUnprovided() }, PROVIDE_RETRY_INTERVAL_MS)
    this.#retryTimer.unref()
    this.#log('started %p listening on %s', node.peerId, node.getMultiaddrs().map(String).join(', '))
  }

  /**
   * Leaves every joined content (publishing LEAVE) and stops the node, within NETWORK_STOP_TIMEOUT_MS
   * (or `timeoutMs`): a stop that fails or hangs is logged and never thrown, so every caller's error
   * path can go on to exit.
   */
  async stop (options: { timeoutMs?: number } = {}): Promise<void> {
    const node = this.#node
    if (node === undefined) return
    this.#node = undefined
    this.#xfer = undefined
    clearInterval(this.#retryTimer)
    this.#shutdown?.abort()
    const timeoutMs = options.timeoutMs ?? NETWORK_STOP_TIMEOUT_MS
    const stopping = (async () => {
      await Promise.all([...this.#announcers.values()].map(async a => a.leave().catch(() => {})))
      this.#announcers.clear()
      for (const signals of this.#signals.values()) signals.leave()
      this.#signals.clear()
      this.#unprovided.clear()
      this.#providing.clear()
      node.removeEventListener('peer:connect', this.#onConnect)
      node.removeEventListener('peer:disconnect', this.#onDisconnect)
      await node.stop()
    })()
    let timer: ReturnType<typeof setTimeout> | undefined
    const timedOut = new Promise<'timeout'>(resolve => { timer = setTimeout(() => { resolve('timeout') }, timeoutMs) })
    try {
      const outcome = await Promise.race([stopping.then(() => 'stopped' as const), timedOut])
      if (outcome === 'timeout') this.#log.error('stopping the network took over %d ms; leaving the rest to the process exit', timeoutMs)
    } catch (err) {
      this.#log.error('stopping the network failed; leaving the rest to the process exit - %e', err)
    } finally {
      clearTimeout(timer)
    }
  }

  /** The libp2p node, for net's own modules, tests and benchmarks; nothing above src/net uses it. */
  get libp2p (): ShoalLibp2p {
    if (this.#node === undefined) throw new ShoalError('ERR_NOT_STARTED', 'the network is not started; call start() first')
    return this.#node
  }

  get started (): boolean {
    return this.#node !== undefined
  }

  get peerId (): PeerId {
    return this.libp2p.peerId
  }

  /** The addresses this node announces, each ending in /p2p/<peerId>. */
  get multiaddrs (): Multiaddr[] {
    return this.libp2p.getMultiaddrs()
  }

  /** PeerIds with at least one open connection. */
  connectedPeers (): PeerId[] {
    return this.libp2p.getPeers()
  }

  /**
   * Announces on the DHT that this node provides `cid`; the record is re-provided automatically
   * until stopProviding(). Returns how many DHT servers stored it (0 means retried in background).
   */
  async provide (cid: CID, options: ProvideOptions = {}): Promise<number> {
    const key = cid.toString()
    this.#providing.set(key, cid)
    const stored = await this.#provideOnce(cid, options)
    if (stored === 0 && this.#providing.has(key)) this.#unprovided.set(key, cid)
    return stored
  }

  /** Stops re-providing `cid`; remote records expire within PROVIDER_VALIDITY_MS + sweep. */
  async stopProviding (cid: CID, options: AbortOptions = {}): Promise<void> {
    this.#providing.delete(cid.toString())
    this.#unprovided.delete(cid.toString())
    await this.libp2p.services.dht.cancelReprovide(cid, options)
  }

  /**
   * Finds other nodes providing `cid` on the DHT. Waits at most `timeoutMs` (or until `signal`
   * aborts, or `maxProviders` are known) and returns the providers found so far, self excluded.
   */
  async findProviders (cid: CID, options: FindProvidersOptions = {}): Promise<PeerInfo[]> {
    const found = new Map<string, PeerInfo>()
    const self = this.peerId
    const signals = [AbortSignal.timeout(options.timeoutMs ?? FIND_PROVIDERS_TIMEOUT_MS)]
    if (options.signal !== undefined) signals.push(options.signal)
    if (this.#shutdown !== undefined) signals.push(this.#shutdown.signal)
    const stop = new AbortController()
    signals.push(stop.signal)
    const signal = AbortSignal.any(signals)
    const started = performance.now()
    try {
      for await (const event of this.libp2p.services.dht.findProviders(cid, { signal })) {
        if (event.name !== 'PROVIDER') continue
        for (const info of event.providers) {
          if (info.id.equals(self)) continue
          const prior = found.get(info.id.toString())
          if (prior === undefined || prior.multiaddrs.length < info.multiaddrs.length) found.set(info.id.toString(), info)
        }
        if (options.maxProviders !== undefined && found.size >= options.maxProviders) {
          stop.abort()
          break
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err
      // A caller abort is the caller's business; a timeout just ends the wait.
      if (options.signal?.aborted === true) throw err
    } finally {
      this.safeDispatchEvent('dht:query', { detail: { kind: 'find-providers', seconds: (performance.now() - started) / 1000, results: found.size } })
    }
    return [...found.values()]
  }

  /**
   * Joins the announcement topic of `cid` with `chunkCount` chunks, of which `currentBitfield`
   * are already held. Returns the content's HaveAnnouncer (the same one if already joined).
   */
  joinContent (cid: CID | string, chunkCount: number, currentBitfield?: Bitfield): HaveAnnouncer {
    const key = cid.toString()
    const existing = this.#announcers.get(key)
    if (existing !== undefined) return existing
    const node = this.libp2p
    const announcer = new HaveAnnouncer(
      { peerId: node.peerId, pubsub: node.services.pubsub, events: node, logger: this.#logger },
      { cid: key, chunkCount, bitfield: currentBitfield, onGossip: kind => { this.safeDispatchEvent('gossip', { detail: kind }) } }
    )
    announcer.join()
    this.#announcers.set(key, announcer)
    return announcer
  }

  /** Leaves the announcement topic of `cid` (publishing LEAVE). */
  async leaveContent (cid: CID | string): Promise<void> {
    const announcer = this.#announcers.get(cid.toString())
    this.#announcers.delete(cid.toString())
    await announcer?.leave()
  }

  /** Joins the signal topic `name`; the same SignalTopic if already joined. */
  joinSignals (name: string): SignalTopic {
    const existing = this.#signals.get(name)
    if (existing !== undefined) return existing
    const node = this.libp2p
    const signals = new SignalTopic({ peerId: node.peerId, pubsub: node.services.pubsub, events: node, logger: this.#logger }, name)
    signals.join()
    this.#signals.set(name, signals)
    return signals
  }

  /** Raw manifest bytes of `cid` from `peer`; the caller verifies them against the CID. */
  async getManifest (peer: XferPeer, cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    return await this.#client().getManifest(peer, cid, options)
  }

  /** The chunks `peer` offers us for `cid`. */
  async getBitfield (peer: XferPeer, cid: CID, options?: AbortOptions): Promise<XferBitfield> {
    return await this.#client().getBitfield(peer, cid, options)
  }

  /** Chunk `index` of `cid` from `peer` (unverified); aborting the signal cancels it on the wire. */
  async requestChunk (peer: XferPeer, cid: CID, index: number, options?: ChunkRequestOptions): Promise<Uint8Array> {
    return await this.#client().requestChunk(peer, cid, index, options)
  }

  /** Gives back a chunk from requestChunk once nothing references it (its buffer is reused). */
  releaseChunk (chunk: Uint8Array): void {
    this.#xfer?.releaseChunk(chunk)
  }

  /** Drops every xfer stream to `peer`; its outstanding requests fail with ERR_XFER_STREAM. */
  closePeer (peer: XferPeer): void {
    this.#xfer?.closePeer(peer)
  }

  #client (): XferProtocol {
    if (this.#xfer === undefined) throw new ShoalError('ERR_NOT_STARTED', 'the network is not started; call start() first')
    return this.#xfer
  }

  async #provideOnce (cid: CID, options: ProvideOptions): Promise<number> {
    const signals = [AbortSignal.timeout(options.timeoutMs ?? PROVIDE_TIMEOUT_MS)]
    if (options.signal !== undefined) signals.push(options.signal)
    if (this.#shutdown !== undefined) signals.push(this.#shutdown.signal)
    const signal = AbortSignal.any(signals)
    let stored = 0
    const started = performance.now()
    try {
      for await (const event of this.libp2p.services.dht.provide(cid, { signal })) {
        if (event.name === 'PEER_RESPONSE' && event.messageName === 'ADD_PROVIDER') stored++
      }
    } catch (err) {
      if (options.signal?.aborted === true) throw err
      this.#log('provide %s ended early: %s', cid, (err as Error).message)
    } finally {
      this.safeDispatchEvent('dht:query', { detail: { kind: 'provide', seconds: (performance.now() - started) / 1000, results: stored } })
    }
    this.#log('provided %s to %d DHT servers', cid, stored)
    return stored
  }

  #retryUnprovided (): void {
    for (const [key, cid] of this.#unprovided) {
      this.#unprovided.delete(key)
      void this.#provideOnce(cid, {}).then(stored => {
        if (stored === 0 && this.#providing.has(key) && this.#node !== undefined) this.#unprovided.set(key, cid)
      })
    }
  }

  readonly #onConnect = (evt: CustomEvent<PeerId>): void => { this.safeDispatchEvent('peer:connect', { detail: evt.detail }) }
  readonly #onDisconnect = (evt: CustomEvent<PeerId>): void => { this.safeDispatchEvent('peer:disconnect', { detail: evt.detail }) }
}
