import { EventEmitter } from 'node:events'
import { access, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { logger } from '@libp2p/logger'
import type { CID } from 'multiformats/cid'
import { buildManifest, ChunkLayout, decodeManifest, parseCid } from '../content/index.js'
import type { Manifest } from '../content/index.js'
import { loadOrCreateIdentity, ShoalNetwork, writeSwarmKeyFile } from '../net/index.js'
import { xfer } from '../net/xfer/index.js'
import type { XferProtocol } from '../net/xfer/index.js'
import { ChunkStore } from '../store/index.js'
import { Availability, SuperSeedPolicy, TokenBucket, UploadSlots } from '../swarm/index.js'
import { isShoalError, ShoalError } from '../util/shoal-error.js'
import { ContentEntry } from './content-entry.js'
import { ContentRecords } from './content-records.js'
import type { ContentRecord } from './content-records.js'
import { Downloader } from './downloader.js'
import { RateMeter } from './rate-meter.js'
import { XferSource } from './xfer-source.js'
import type { ShoalApi } from './shoal-api.js'
import type {
  AddOptions, AddResult, ContentInfo, GetOptions, GetResult, NodeStatus, ShoalEvents, ShoalInit
} from './types.js'
import { DEFAULT_MAX_PEERS_PER_CONTENT } from './constants.js'

const log = logger('shoal:node')

/**
 * One running shoal node: its libp2p host, the contents it seeds or fetches, and their persisted
 * state. Every interface (CLI, control API, programmatic API) drives this class.
 */
export class ShoalNode extends EventEmitter<ShoalEvents> implements ShoalApi {
  readonly init: Readonly<ShoalInit> & { dataDir: string }
  readonly #records: ContentRecords
  readonly #contents = new Map<string, ContentEntry>()
  readonly #uploadBucket: TokenBucket
  readonly #downloadBucket: TokenBucket
  readonly #uploadSlots: UploadSlots
  readonly #uploaded = new RateMeter()
  readonly #downloaded = new RateMeter()
  #network?: ShoalNetwork
  #downloader?: Downloader
  #opened?: Promise<void>
  #startedAt = 0
  #stopped = false

  constructor (init: ShoalInit = {}) {
    super()
    this.init = { ...init, dataDir: resolve(init.dataDir ?? join(homedir(), '.shoal')) }
    this.#records = new ContentRecords(this.init.dataDir)
    this.#uploadBucket = new TokenBucket({ rate: init.uploadLimit ?? 0 })
    this.#downloadBucket = new TokenBucket({ rate: init.downloadLimit ?? 0 })
    this.#uploadSlots = new UploadSlots({ slots: init.uploadSlots })
    // an 'error' event without a listener would throw; errors also reach callers as rejections
    this.on('error', () => {})
  }

  /** Creates the identity key on first use and returns the PeerId, without starting the node. */
  static async identity (init: ShoalInit = {}): Promise<{ peerId: string, identityFile: string, created: boolean }> {
    const dataDir = resolve(init.dataDir ?? join(homedir(), '.shoal'))
    const identityFile = join(dataDir, 'identity.key')
    const existed = await access(identityFile).then(() => true, () => false)
    const key = await loadOrCreateIdentity(identityFile)
    const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
    return { peerId: peerIdFromPrivateKey(key).toString(), identityFile, created: !existed }
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
    this.#opened ??= this.#load()
    await this.#opened
  }

  /** Opens the state, starts libp2p, re-announces held content and resumes unfinished downloads. */
  async start (options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.open()
    options.signal?.throwIfAborted()
    const source = new XferSource({
      entry: cid => this.#contents.get(cid.toString()),
      uploadBucket: this.#uploadBucket,
      uploadSlots: this.#uploadSlots,
      onUploaded: bytes => { this.#uploaded.add(bytes) }
    })
    const network = new ShoalNetwork({
      dataDir: this.init.dataDir,
      ...(this.init.listen === undefined ? {} : { listen: this.init.listen }),
      ...(this.init.announce === undefined ? {} : { announce: this.init.announce }),
      bootstrap: this.init.bootstrap ?? [],
      ...(this.init.swarmKeyFile === undefined ? {} : { swarmKeyFile: this.init.swarmKeyFile }),
      dhtMode: this.init.dhtMode ?? 'server'
    }, { extraServices: { xfer: xfer({ source }) } })
    try {
      await network.start()
    } catch (err) {
      throw translateStartError(err)
    }
    this.#network = network
    const client = network.libp2p.services.xfer as XferProtocol
    this.#downloader = new Downloader({
      network,
      xfer: client,
      records: this.#records,
      downloadBucket: this.#downloadBucket,
      maxPeersPerContent: this.init.maxPeersPerContent ?? DEFAULT_MAX_PEERS_PER_CONTENT,
      onDownloaded: bytes => { this.#downloaded.add(bytes) },
      emit: (event, detail) => { (this.emit as (name: string, value: unknown) => boolean).call(this, event, detail) },
      publish: entry => { this.#publish(entry) }
    })
    network.on('peer:connect', peer => { this.emit('peer', { peerId: peer.toString(), connected: true }) })
    network.on('peer:disconnect', peer => {
      const id = peer.toString()
      this.emit('peer', { peerId: id, connected: false })
      this.#uploadSlots.release(id)
      for (const entry of this.#contents.values()) {
        entry.swarm?.removePeer(id)
        entry.superSeed?.removePeer(id)
      }
    })
    this.#startedAt = Date.now()
    for (const entry of this.#contents.values()) {
      if (entry.state === 'error') continue
      if (entry.complete) {
        this.#publish(entry)
        entry.state = 'seeding'
      } else {
        // an unfinished download from an earlier run continues where it stopped
        entry.download = this.#runGet(entry, entry.meta!.root, {})
        entry.download.catch(() => {})
      }
    }
    log('started %s with %d contents', this.peerId, this.#contents.size)
  }

  /** Adds a file or folder: builds its manifest and seeds it in place (nothing is copied). */
  async add (path: string, options: AddOptions = {}): Promise<AddResult> {
    await this.open()
    const abs = resolve(path)
    const built = await buildManifest(abs, { chunkSize: options.chunkSize ?? this.init.chunkSize, signal: options.signal })
    const key = built.cid.toString()
    const existing = this.#contents.get(key)
    if (existing?.store !== undefined && existing.state !== 'error') return addResult(existing)
    if (existing !== undefined) await this.#drop(existing)
    const entry = new ContentEntry(built.cid)
    entry.manifest = built.manifest
    entry.manifestBytes = built.bytes
    entry.layout = new ChunkLayout(built.manifest)
    entry.meta = { cid: key, mode: 'seed', root: abs, path: abs, addedAt: Date.now() }
    entry.store = await ChunkStore.open({ layout: built.manifest, root: abs, stateDir: this.#records.stateDir(key), mode: 'seed' })
    await this.#records.save({ meta: entry.meta, manifestBytes: built.bytes })
    entry.state = 'seeding'
    this.#contents.set(key, entry)
    if (this.#network?.started === true) this.#publish(entry)
    log('added %s (%s) from %s', key, built.manifest.name, abs)
    return addResult(entry)
  }

  /** Fetches content by CID into `options.out`, verifying every chunk; resolves when complete. */
  async get (cidText: string, options: GetOptions = {}): Promise<GetResult> {
    return await this.#get(cidText, options, false)
  }

  /**
   * `background`: nobody awaits the result (the control API's downloads), so a failure stays listed
   * as state 'error' with its code for the client that polls; a caller of get() gets the rejection.
   */
  async #get (cidText: string, options: GetOptions, background: boolean): Promise<GetResult> {
    const cid = parseCid(cidText)
    await this.open()
    if (this.#network?.started !== true) throw new ShoalError('ERR_NOT_STARTED', 'start the node before fetching content')
    const key = cid.toString()
    let entry = this.#contents.get(key)
    if (entry?.state === 'error') {
      await this.#drop(entry)
      entry = undefined
    }
    const onProgress = options.onProgress
    const listener = onProgress === undefined ? undefined : (p: Parameters<typeof onProgress>[0]) => { if (p.cid === key) onProgress(p) }
    if (listener !== undefined) this.on('progress', listener)
    try {
      if (entry === undefined) {
        entry = new ContentEntry(cid)
        this.#contents.set(key, entry)
        entry.download = this.#runGet(entry, resolve(options.out ?? '.'), options, background)
      } else if (entry.download === undefined) {
        // held already: seeded here, or downloaded before
        if (entry.complete) return { cid: key, path: entry.meta?.path ?? '', size: entry.manifest?.size ?? 0, fetchedChunks: 0, elapsedMs: 0 }
        // stopped part-way by an earlier abort: continue into the store it already has
        entry.download = this.#runGet(entry, resolve(options.out ?? '.'), options, background)
      }
      return await abortable(entry.download, options.signal)
    } finally {
      if (listener !== undefined) this.off('progress', listener)
    }
  }

  /** Starts a download in the background (the control API's POST /v1/downloads). */
  async startGet (cidText: string, options: { out: string, overwrite?: boolean }): Promise<ContentInfo> {
    const cid = parseCid(cidText)
    this.#get(cid.toString(), { out: options.out, overwrite: options.overwrite }, true).catch(err => { log('background get of %s failed: %e', cidText, err) })
    return this.#contents.get(cid.toString())?.info() ?? { ...emptyInfo(cid.toString()) }
  }

  async ls (): Promise<ContentInfo[]> {
    await this.open()
    return [...this.#contents.values()].map(e => e.info())
  }

  async status (): Promise<NodeStatus> {
    await this.open()
    const started = this.#network?.started === true
    return {
      peerId: started ? this.peerId : (await ShoalNode.identity(this.init)).peerId,
      multiaddrs: this.multiaddrs,
      peers: started ? this.#network!.connectedPeers().length : 0,
      contents: this.#contents.size,
      uploadedBytes: this.#uploaded.total,
      downloadedBytes: this.#downloaded.total,
      uploadRateBps: this.#uploaded.rate(),
      downloadRateBps: this.#downloaded.rate(),
      uptimeMs: started ? Date.now() - this.#startedAt : 0
    }
  }

  /** Stops fetching/seeding a content and forgets it; files on disk stay. */
  async remove (cidText: string): Promise<void> {
    const cid = parseCid(cidText)
    await this.open()
    const entry = this.#contents.get(cid.toString())
    if (entry === undefined) throw new ShoalError('ERR_NOT_FOUND', `this node has no content ${cidText}`)
    await this.#drop(entry)
    await this.#records.delete(entry.key)
  }

  /** Stops everything: downloads abort (state saved), LEAVE is announced, stores flush, libp2p stops. */
  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    for (const entry of this.#contents.values()) entry.controller.abort(new ShoalError('ERR_ABORTED', 'node stopping'))
    await Promise.allSettled([...this.#contents.values()].map(async e => await e.download))
    await this.#network?.stop().catch(err => { log.error('network stop failed: %e', err) })
    await Promise.allSettled([...this.#contents.values()].map(async e => { await e.store?.close() }))
  }

  /** Provides the CID on the DHT and joins its gossip topic; sets up super-seeding for a seeder. */
  #publish (entry: ContentEntry): void {
    const network = this.#network
    if (network === undefined || entry.store === undefined || entry.announcer !== undefined) return
    const chunkCount = entry.store.chunkCount
    entry.swarm ??= new Availability(chunkCount)
    const swarm = entry.swarm
    if (this.init.superSeed === true && entry.meta?.mode === 'seed') {
      entry.superSeed = new SuperSeedPolicy({ availability: swarm })
    }
    const announcer = network.joinContent(entry.cid, chunkCount, entry.store.have)
    entry.announcer = announcer
    announcer.on('bitfield', ({ peer, bitfield }) => { swarm.peerBitfield(peer, bitfield) })
    announcer.on('have', ({ peer, indexes }) => { swarm.peerHave(peer, indexes) })
    announcer.on('leave', ({ peer }) => { swarm.removePeer(peer); entry.superSeed?.removePeer(peer) })
    network.provide(entry.cid, { signal: entry.controller.signal }).catch(err => {
      if (!entry.controller.signal.aborted) log.error('providing %s failed: %e', entry.key, err)
    })
  }

  #runGet (entry: ContentEntry, out: string, options: GetOptions, keepOnFailure = false): Promise<GetResult> {
    const run = async (): Promise<GetResult> => {
      entry.state = 'downloading'
      entry.error = undefined
      const signal = options.signal === undefined ? entry.controller.signal : AbortSignal.any([entry.controller.signal, options.signal])
      try {
        const result = await this.#downloader!.download(entry, out, { ...options, signal })
        entry.state = 'seeding'
        this.emit('done', result)
        return result
      } catch (err) {
        const error = isShoalError(err) ? err : new ShoalError('ERR_INTERNAL', err instanceof Error ? err.message : String(err), { cause: err })
        // a caller's abort stops the download like remove/stop do: resumable, not failed
        entry.state = signal.aborted ? 'stopped' : 'error'
        entry.error = error
        // nothing stored yet: forget it, unless a background download failed and must say why
        if (entry.store === undefined && !this.#stopped && !(keepOnFailure && !signal.aborted)) this.#contents.delete(entry.key)
        this.emit('error', { cid: entry.key, error })
        throw error
      } finally {
        entry.download = undefined
      }
    }
    return run()
  }

  async #drop (entry: ContentEntry): Promise<void> {
    entry.controller.abort(new ShoalError('ERR_ABORTED', 'content removed'))
    await entry.download?.catch(() => {})
    await entry.announcer?.leave().catch(() => {})
    if (this.#network?.started === true) {
      await this.#network.leaveContent(entry.cid).catch(() => {})
      await this.#network.stopProviding(entry.cid).catch(() => {})
    }
    await entry.store?.close()
    this.#contents.delete(entry.key)
  }

  async #load (): Promise<void> {
    for (const record of await this.#records.load()) {
      const entry = await this.#openRecord(record)
      this.#contents.set(entry.key, entry)
    }
  }

  async #openRecord (record: ContentRecord): Promise<ContentEntry> {
    const cid: CID = parseCid(record.meta.cid)
    const entry = new ContentEntry(cid)
    entry.meta = record.meta
    try {
      const manifest: Manifest = decodeManifest(record.manifestBytes, cid)
      entry.manifest = manifest
      entry.manifestBytes = record.manifestBytes
      entry.layout = new ChunkLayout(manifest)
      if (record.meta.mode === 'seed') await stat(record.meta.root)
      // a download's output folder (the user's choice) holds meta.path; nothing below it is a symlink
      const base = record.meta.mode === 'download' ? dirname(record.meta.path) : undefined
      entry.store = await ChunkStore.open({ layout: manifest, root: record.meta.root, base, stateDir: this.#records.stateDir(entry.key), mode: record.meta.mode })
      entry.state = entry.store.complete ? (record.meta.mode === 'seed' ? 'seeding' : 'complete') : 'stopped'
    } catch (err) {
      entry.state = 'error'
      entry.error = isShoalError(err) ? err : new ShoalError('ERR_UNREADABLE', `cannot reopen ${record.meta.root}: ${(err as Error).message}`)
      log.error('content %s cannot be reopened: %e', entry.key, err)
    }
    return entry
  }
}

function addResult (entry: ContentEntry): AddResult {
  return { cid: entry.key, name: entry.manifest!.name, path: entry.meta!.path, size: entry.manifest!.size, chunks: entry.store!.chunkCount }
}

function emptyInfo (cid: string): ContentInfo {
  return { cid, name: '', path: '', size: 0, chunkSize: 0, chunks: 0, have: 0, state: 'downloading', peers: 0, uploadedBytes: 0, downloadedBytes: 0 }
}

/** Waits for `promise` unless `signal` aborts first (the work itself goes on). */
async function abortable<T> (promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return await promise
  signal.throwIfAborted()
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(new ShoalError('ERR_ABORTED', 'interrupted')) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}

function translateStartError (err: unknown): unknown {
  const text = err instanceof Error ? err.message : String(err)
  if (/EADDRINUSE|address already in use/i.test(text)) {
    return new ShoalError('ERR_PORT_IN_USE', `the listen port is already in use (${text}); choose another with --listen or stop the other node`, { cause: err })
  }
  return err
}
