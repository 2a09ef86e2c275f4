import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { TypedEventEmitter } from '@libp2p/interface'
import type { Logger } from '@libp2p/interface'
import { buildManifest, parseCid } from '../content/index.js'
import { identityOfDataDir, nodeLogger, writeSwarmKeyFile } from '../net/index.js'
import type { DataDirIdentity, NetworkApi } from '../net/index.js'
import { ShoalError } from '../util/shoal-error.js'
import { ContentAliases } from './content-aliases.js'
import { ContentAnnouncements } from './content-announcements.js'
import { ContentCache } from './content-cache.js'
import { ContentEntry } from './content-entry.js'
import type { HeldContent } from './content-entry.js'
import { ContentLeases } from './content-leases.js'
import { ContentOpener } from './content-opener.js'
import { ContentReader } from './content-reader.js'
import { ContentRecords } from './content-records.js'
import { ContentRegistry } from './content-registry.js'
import { DEFAULT_MAX_PEERS_PER_CONTENT, LOG_TAG_LENGTH } from './constants.js'
import { DownloadRunner } from './download-runner.js'
import { managedOutOf } from './managed-store.js'
import { NodeTraffic } from './node-traffic.js'
import type { ShoalApi } from './shoal-api.js'
import { startNetwork } from './start-network.js'
import { peerShareField } from './content-sources.js'
import type {
  AddOptions, AddResult, CacheStats, ContentDetail, ContentInfo, GcOptions, GcReport, GetOptions, GetResult, NodeObserver, NodeStatus, ShoalEvents, ShoalInit,
  ContentRead, ReadOptions, ReadTarget, StatOptions
} from './types.js'
import { XferSource } from './xfer-source.js'

/**
 * One running shoal node: composes its network, the registry of its contents, their records and
 * announcements, and its downloads. Every interface (CLI, control API, programmatic API) drives it.
 */
export class ShoalNode extends TypedEventEmitter<ShoalEvents> implements ShoalApi {
  readonly init: Readonly<ShoalInit> & { dataDir: string }
  /** Contents in use by a reader right now, and when each was last used (the cache's view). */
  readonly leases = new ContentLeases()
  readonly #contents = new ContentRegistry()
  /** Other CIDs naming held contents (the registry mirror's blob digests), provided and answered for. */
  readonly aliases: ContentAliases
  readonly #opener: ContentOpener
  readonly #cache: ContentCache
  readonly #traffic: NodeTraffic
  readonly #observers = new Set<NodeObserver>()
  // one object handed down once: observers may come and go while downloads run
  readonly #observer: Required<NodeObserver> = {
    chunkRequest: (outcome, seconds) => { for (const o of this.#observers) o.chunkRequest?.(outcome, seconds) },
    gossip: kind => { for (const o of this.#observers) o.gossip?.(kind) },
    dhtQuery: (kind, seconds) => { for (const o of this.#observers) o.dhtQuery?.(kind, seconds) }
  }
  readonly #reader: ContentReader
  // the tag is known once the identity is: lines logged before start carry the configured one, if any
  #tag: string
  readonly #logger = nodeLogger(() => this.#tag)
  readonly #log: Logger = this.#logger.forComponent('shoal:node')
  #network?: NetworkApi
  #downloads?: DownloadRunner
  #announcements?: ContentAnnouncements
  #opened?: Promise<void>
  #startedAt = 0
  #stopped = false

  constructor (init: ShoalInit = {}) {
    super()
    this.init = { ...init, dataDir: dataDirOf(init) }
    this.#tag = init.logTag ?? ''
    const records = new ContentRecords(this.init.dataDir)
    this.#opener = new ContentOpener(records, this.#logger)
    this.#cache = new ContentCache({
      dataDir: this.init.dataDir,
      records,
      contents: this.#contents,
      leases: this.leases,
      policy: init,
      onEvicted: detail => { this.safeDispatchEvent('evicted', { detail }) },
      logger: this.#logger
    })
    this.#traffic = new NodeTraffic(init)
    this.#reader = new ContentReader({
      contents: this.#contents,
      leases: this.leases,
      fetch: async (cid, options) => await this.fetch(cid, options),
      log: this.#logger.forComponent('shoal:node:read')
    })
    this.aliases = new ContentAliases(() => this.#network, this.#log)
  }

  /** Creates the identity key on first use and returns the PeerId, without starting the node. */
  static async identity (init: ShoalInit = {}): Promise<DataDirIdentity> {
    return await identityOfDataDir(dataDirOf(init))
  }

  /** Writes a new private swarm key file (mode 0600; an existing file is never overwritten). */
  static async createSwarmKey (file: string): Promise<void> {
    await writeSwarmKeyFile(file)
  }

  get peerId (): string {
    return this.#network?.started === true ? this.#network.peerId.toString() : ''
  }

  /** Announced multiaddrs, each ending in /p2p/<peer id>. */
  get multiaddrs (): string[] {
    return this.#network?.started === true ? this.#network.multiaddrs.map(ma => ma.toString()) : []
  }

  /** Loads the persisted contents without touching the network (enough for ls/status/remove). */
  async open (): Promise<void> {
    this.#opened ??= (async () => {
      // an eviction a crash interrupted is finished before anything is loaded, so it is never announced
      await this.#cache.finishInterrupted()
      for (const entry of await this.#opener.loadAll()) this.#contents.set(entry)
    })()
    await this.#opened
  }

  /** Opens the state, starts libp2p, re-announces held content and resumes unfinished downloads. */
  async start (options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.open()
    options.signal?.throwIfAborted()
    if (this.init.logTag === undefined) this.#tag = (await ShoalNode.identity(this.init)).peerId.slice(-LOG_TAG_LENGTH)
    const logger = this.#logger
    const traffic = this.#traffic
    const source = new XferSource({
      // a manifest request for an alias is answered with the manifest of the content it names
      entry: cid => this.#contents.get(this.aliases.target(cid.toString()) ?? cid.toString()),
      uploadBucket: traffic.uploadBucket,
      uploadSlots: traffic.uploadSlots,
      onUploaded: bytes => { traffic.uploaded.add(bytes) },
      logger
    })
    const network = await startNetwork(this.init, source, logger)
    this.#network = network
    const announcements = new ContentAnnouncements({ network, logger })
    this.#announcements = announcements
    this.#contents.withdraw = async entry => { await announcements.withdraw(entry) }
    this.#downloads = new DownloadRunner({
      network,
      contents: this.#contents,
      opener: this.#opener,
      events: this,
      downloadBucket: traffic.downloadBucket,
      maxPeersPerContent: this.init.maxPeersPerContent ?? DEFAULT_MAX_PEERS_PER_CONTENT,
      onDownloaded: bytes => { traffic.downloaded.add(bytes) },
      onReceived: (kind, bytes) => { traffic.received[kind] += bytes },
      observer: this.#observer,
      publish: (entry, held) => announcements.publish(entry, held),
      makeRoom: async root => await this.#cache.makeRoom(root),
      stopping: () => this.#stopped,
      logger
    })
    // a download's ban reaches the node's own view of the content (what its seeder policies count)
    this.addEventListener('banned', ({ detail }) => {
      const entry = this.#contents.get(detail.cid)
      if (entry !== undefined) announcements.ban(entry, detail.peer)
    })
    network.addEventListener('gossip', ({ detail }) => { this.#observer.gossip(detail) })
    network.addEventListener('dht:query', ({ detail }) => { this.#observer.dhtQuery(detail.kind, detail.seconds) })
    network.addEventListener('peer:connect', ({ detail }) => { this.safeDispatchEvent('peer', { detail: { peerId: detail.toString(), connected: true } }) })
    network.addEventListener('peer:disconnect', ({ detail }) => {
      const peer = detail.toString()
      this.safeDispatchEvent('peer', { detail: { peerId: peer, connected: false } })
      traffic.uploadSlots.release(peer)
      announcements.peerGone(this.#contents.values(), peer)
      source.peerGone(this.#contents.values(), peer)
    })
    // a fetch into the managed store may have taken it over its limit
    this.addEventListener('done', ({ detail }) => {
      if (this.#cache.isManaged(this.#contents.get(detail.cid)?.held?.meta)) this.#cache.collectSoon()
    })
    this.#startedAt = Date.now()
    this.#downloads.resumeAll()
    this.#cache.start()
    this.#cache.collectSoon()
    this.#log('started %s with %d contents', this.peerId, this.#contents.size)
  }

  /** Adds a file or folder: builds its manifest and seeds it in place (nothing is copied). */
  async add (path: string, options: AddOptions = {}): Promise<AddResult> {
    await this.open()
    const abs = resolve(path)
    const built = await buildManifest(abs, { chunkSize: options.chunkSize ?? this.init.chunkSize, signal: options.signal, logger: this.#logger })
    const existing = this.#contents.get(built.cid.toString())
    const existingHeld = existing?.held
    if (existingHeld !== undefined && existing?.phase.state !== 'error') return addResult(existing?.key ?? '', existingHeld)
    if (existing !== undefined) await this.#contents.drop(existing)
    const held = await this.#opener.openSeed(built.cid, abs, { manifest: built.manifest, bytes: built.bytes })
    const entry = new ContentEntry(built.cid)
    entry.toHeld(held, this.#network?.started === true ? this.#announcements?.publish(entry, held) : undefined)
    this.#contents.set(entry)
    this.#log('added %s (%s) from %s', entry.key, built.manifest.name, abs)
    return addResult(entry.key, held)
  }

  /** Fetches content by CID into `options.out`, verifying every chunk; resolves when complete. */
  async get (cidText: string, options: GetOptions = {}): Promise<GetResult> {
    return await this.#get(cidText, options, false)
  }

  /**
   * Fetches `cid` for the node itself (the data plane, the registry mirror, a daemon download with no
   * folder) into its managed store, `<dataDir>/store/<cid>`; joins a download already under way and
   * returns at once when the content is held, wherever it lives.
   */
  async fetch (cidText: string, options: Omit<GetOptions, 'out' | 'overwrite'> = {}): Promise<GetResult> {
    const cid = parseCid(cidText).toString()
    this.leases.touch(cid)
    await this.#cache.settled(cid)
    // nothing in the store is a user's file: what a crash left there may be replaced
    return await this.#get(cid, { ...options, out: managedOutOf(this.init.dataDir, cid), overwrite: true }, false)
  }

  /**
   * Size, name and ETag of a file of a content, for a reader about to stream it (HTTP HEAD, the
   * Content-Length of a GET). A content not held is fetched into the managed store; this waits only
   * for its manifest.
   */
  async stat (cidText: string, options: StatOptions = {}): Promise<ReadTarget> {
    await this.open()
    return await this.#reader.stat(cidText, options)
  }

  /**
   * Streams bytes `start`..`end` of a file of a content (see ContentReader). A content not held is
   * fetched into the managed store, the requested range first, and its bytes flow as their chunks
   * verify. Aborting `signal` ends the read, never the download.
   */
  async read (cidText: string, options: ReadOptions = {}): Promise<ContentRead> {
    await this.open()
    return await this.#reader.read(cidText, options)
  }

  /**
   * Starts a download in the background (the control API's POST /v1/downloads); with no `out` it goes
   * to the managed store, like fetch(), where the cache may evict it.
   */
  async startGet (cidText: string, options: { out?: string, overwrite?: boolean }): Promise<ContentInfo> {
    const cid = parseCid(cidText).toString()
    if (options.out === undefined) {
      this.leases.touch(cid)
      await this.#cache.settled(cid)
    }
    const out = options.out ?? managedOutOf(this.init.dataDir, cid)
    this.#get(cid, { out, overwrite: options.out === undefined ? true : options.overwrite }, true).catch(err => { this.#log('background get of %s failed: %e', cidText, err) })
    const entry = this.#contents.get(cid)
    return entry === undefined ? new ContentEntry(parseCid(cid)).info() : this.#info(entry)
  }

  async ls (): Promise<ContentInfo[]> {
    await this.open()
    return [...this.#contents.values()].map(entry => this.#info(entry))
  }

  /** Pins a content: the cache never evicts it (persisted across restarts). */
  async pin (cidText: string): Promise<void> {
    await this.open()
    await this.#cache.setPinned(parseCid(cidText).toString(), true)
  }

  /** Unpins a content: the cache may evict it again if it lives in the managed store. */
  async unpin (cidText: string): Promise<void> {
    await this.open()
    await this.#cache.setPinned(parseCid(cidText).toString(), false)
  }

  /** One cache GC pass now (or, with `dryRun`, what it would evict); see docs/cache.md. */
  async gc (options: GcOptions = {}): Promise<GcReport> {
    await this.open()
    return await this.#cache.gc(options)
  }

  /** Bytes held in the managed store and evictions by reason since start. */
  cacheStats (): CacheStats {
    return this.#cache.stats()
  }

  async status (): Promise<NodeStatus> {
    await this.open()
    const network = this.#network?.started === true ? this.#network : undefined
    return {
      peerId: network?.peerId.toString() ?? (await ShoalNode.identity(this.init)).peerId,
      multiaddrs: this.multiaddrs,
      peers: network?.connectedPeers().length ?? 0,
      contents: this.#contents.size,
      uploadedBytes: this.#traffic.uploaded.total,
      downloadedBytes: this.#traffic.downloaded.total,
      uploadRateBps: this.#traffic.uploaded.rate(),
      downloadRateBps: this.#traffic.downloaded.rate(),
      uptimeMs: network === undefined ? 0 : Date.now() - this.#startedAt,
      received: { ...this.#traffic.received },
      ...peerShareField(this.#traffic.received)
    }
  }

  /** One content with its chunk map and per-peer figures (the dashboard's view). */
  async contentDetail (cidText: string): Promise<ContentDetail> {
    await this.open()
    const entry = this.#contents.get(parseCid(cidText).toString())
    if (entry === undefined) throw new ShoalError('ERR_NOT_FOUND', `this node has no content ${cidText}`)
    return entry.detail()
  }

  /** Adds metrics hooks; returns the function that removes them. */
  observe (observer: NodeObserver): () => void {
    this.#observers.add(observer)
    return () => { this.#observers.delete(observer) }
  }

  /**
   * Counts bytes of `cid` fetched from outside the swarm (the registry mirror's upstream pulls), so
   * its source shares and the node's totals show them.
   */
  recordUpstreamBytes (cidText: string, bytes: number): void {
    this.#traffic.received.upstream += bytes
    this.#contents.get(cidText)?.sources.receivedFromUpstream(bytes)
  }

  /**
   * Stops fetching/seeding a content and forgets it; files on disk stay, except a managed content's
   * (under `<dataDir>/store`, which nobody else uses): they are deleted, crash-safe.
   */
  async remove (cidText: string): Promise<void> {
    const cid = parseCid(cidText)
    await this.open()
    const entry = this.#contents.get(cid.toString())
    if (entry === undefined) throw new ShoalError('ERR_NOT_FOUND', `this node has no content ${cidText}`)
    const held = entry.held
    if (held !== undefined && this.#cache.isManaged(held.meta)) {
      await this.#cache.discard(entry, held)
      return
    }
    await this.#contents.drop(entry)
    await this.#opener.forget(entry.key)
  }

  /** Stops everything: downloads abort (state saved), LEAVE is announced, stores flush, libp2p stops. */
  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    await this.#cache.stop()
    await this.#contents.closeAll(async () => {
      await this.#network?.stop().catch(err => { this.#log.error('network stop failed: %e', err) })
    })
  }

  #info (entry: ContentEntry): ContentInfo {
    return { ...entry.info(), ...this.#cache.describe(entry) }
  }

  async #get (cidText: string, options: GetOptions, background: boolean): Promise<GetResult> {
    const cid = parseCid(cidText)
    await this.open()
    if (this.#downloads === undefined || this.#network?.started !== true) throw new ShoalError('ERR_NOT_STARTED', 'start the node before fetching content')
    return await this.#downloads.get(cid, options, background)
  }
}

function dataDirOf (init: ShoalInit): string {
  return resolve(init.dataDir ?? join(homedir(), '.shoal'))
}

function addResult (cid: string, held: HeldContent): AddResult {
  return { cid, name: held.manifest.name, path: held.meta.path, size: held.manifest.size, chunks: held.store.chunkCount }
}
