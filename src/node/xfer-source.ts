import type { AbortOptions, ComponentLogger, Logger } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { XferBitfield, XferContentSource } from '../net/index.js'
import { FirstCopyPolicy } from '../swarm/index.js'
import { BusyUplinkPolicy, UploadBacklog, rareRequest } from '../swarm/index.js'
import { swarmConstants } from '../swarm/index.js'
import type { TokenBucket, UploadSlots } from '../swarm/index.js'
import { ShoalError } from '../util/shoal-error.js'
import type { ContentEntry } from './content-entry.js'
import { TEST_HOOK_CORRUPT_UPLOADS_ENV, TEST_HOOKS_ENV } from './constants.js'

export interface XferSourceInit {
  entry(cid: CID): ContentEntry | undefined
  uploadBucket: TokenBucket
  uploadSlots: UploadSlots
  onUploaded(bytes: number): void
  logger: ComponentLogger
}

const { UPLOAD_IDLE_BACKLOG } = swarmConstants

/**
 * What the xfer server serves from: a node's contents. Only verified chunks are ever offered (the
 * store holds nothing else), and the upload policy (slots, the origin's first-copy rule, rate limit) is applied here.
 */
export class XferSource implements XferContentSource {
  readonly #init: XferSourceInit
  /** The origin's first-copy rule, per content this node added itself. */
  readonly #firstCopy = new WeakMap<ContentEntry, FirstCopyPolicy>()
  /** Every holder's busy-uplink rule, per content. */
  readonly #busy = new WeakMap<ContentEntry, BusyUplinkPolicy>()
  /** Chunk uploads admitted and not sent yet, over all contents: is the uplink about to idle? */
  readonly #backlog = new UploadBacklog()
  readonly #log: Logger
  readonly #admitLog: Logger
  /** Test hook only (TEST_HOOK_CORRUPT_UPLOADS_ENV): serve every chunk with a byte flipped. */
  readonly #corruptUploads: boolean

  constructor (init: XferSourceInit) {
    this.#init = init
    // DEBUG=shoal:node:upload traces every chunk sent (mode, peer, index): the tuning log's tool
    this.#log = init.logger.forComponent('shoal:node:upload')
    this.#admitLog = init.logger.forComponent('shoal:node:admit')
    this.#corruptUploads = corruptUploadsHook(init.logger.forComponent('shoal:node'))
  }

  manifestBytes (cid: CID): Uint8Array | undefined {
    return this.#init.entry(cid)?.held?.manifestBytes
  }

  bitfield (cid: CID): XferBitfield | undefined {
    const held = this.#init.entry(cid)?.held
    if (held === undefined) return undefined
    return { chunkCount: held.store.chunkCount, bytes: held.store.have.bytes, origin: held.meta.mode === 'seed' }
  }

  admit (cid: CID, peer: string, index: number, lastResort = false, excluded?: readonly string[]): 'ok' | 'busy' | 'elsewhere' | 'not-held' {
    const entry = this.#init.entry(cid)
    const store = entry?.held?.store
    if (entry === undefined || store === undefined) return 'not-held'
    // An index outside the content is a bad request, not a chunk to look for elsewhere: let the read
    // refuse it with BAD_INDEX (no upload slot is taken for it).
    if (index >= store.chunkCount) return 'ok'
    if (!store.has(index)) return 'not-held'
    // Nothing left to send but the upload on the wire: a refusal now would idle the uplink for good.
    const backlog = this.#backlog.size
    const uplinkIdle = backlog <= UPLOAD_IDLE_BACKLOG
    // A chunk few peers hold (this node's gossip view) passes the slots: its spread is what the swarm waits on.
    const holders = entry.announced?.availability.count(index)
    const rare = holders !== undefined && rareRequest(holders, backlog)
    if (this.#init.uploadSlots.acquire(peer, { uplinkIdle, rare }) === 'busy') return 'busy'
    entry.peers.add(peer)
    // 'elsewhere' (not 'busy', never 'not-held'): the receiver takes this one chunk from another holder
    // first and asks us for another at once, instead of leaving our uplink alone for a back-off; it
    // keeps counting us as a holder and comes back if no other holder delivers (saying so: lastResort,
    // which every claim-counting rule here honours).
    // The busy rule goes first: the first-copy rule counts an 'ok' as an upload at once.
    let verdict = lastResort ? 'ok' : (this.#busyPolicy(entry)?.admit(peer, index, backlog) ?? 'ok')
    const firstCopy = verdict === 'ok' ? this.#firstCopyPolicy(entry) : undefined
    if (firstCopy !== undefined) verdict = firstCopy.admit(peer, index, { uplinkIdle, lastResort, ...(excluded === undefined ? {} : { excluded }) })
    if (verdict === 'ok') this.#backlog.admitted(peer, `${entry.key} ${index}`)
    // DEBUG=shoal:node:admit: every first-copy decision and why, to tell which path let a duplicate through
    if (firstCopy !== undefined && this.#admitLog.enabled) {
      this.#admitLog('%s %d %s uploads=%d holders=%d backlog=%d', peer, index, firstCopy.lastReason, firstCopy.uploads(index), entry.announced?.availability.count(index) ?? 0, backlog)
    }
    return verdict
  }

  /** A peer disconnected: the first-copy rule forgets what it refused it, so its record stays small, and its uploads stop counting as uplink work. */
  peerGone (entries: Iterable<ContentEntry>, peer: string): void {
    for (const entry of entries) {
      this.#firstCopy.get(entry)?.removePeer(peer)
      this.#busy.get(entry)?.removePeer(peer)
    }
    this.#backlog.removePeer(peer)
  }

  #busyPolicy (entry: ContentEntry): BusyUplinkPolicy | undefined {
    const availability = entry.announced?.availability
    if (availability === undefined) return undefined
    let policy = this.#busy.get(entry)
    if (policy === undefined) {
      policy = new BusyUplinkPolicy({ availability, origins: () => entry.sources.origins })
      this.#busy.set(entry, policy)
    }
    return policy
  }

  #firstCopyPolicy (entry: ContentEntry): FirstCopyPolicy | undefined {
    const availability = entry.announced?.availability
    if (entry.held?.meta.mode !== 'seed' || availability === undefined) return undefined
    let policy = this.#firstCopy.get(entry)
    if (policy === undefined) {
      policy = new FirstCopyPolicy({ availability })
      this.#firstCopy.set(entry, policy)
    }
    return policy
  }

  async readChunk (cid: CID, index: number, _options?: AbortOptions): Promise<Uint8Array> {
    const store = this.#init.entry(cid)?.held?.store
    if (store === undefined) throw new ShoalError('ERR_NOT_HELD', `content ${cid.toString()} is not held here`)
    const data = await store.read(index)
    return this.#corruptUploads ? withFlippedByte(data) : data
  }

  async throttleUpload (bytes: number, options?: AbortOptions): Promise<void> {
    await this.#init.uploadBucket.take(bytes, options)
  }

  onUploaded (cid: CID, peer: string, index: number, bytes: number): void {
    const entry = this.#init.entry(cid)
    if (this.#log.enabled) this.#log('%s %s %d', entry?.held?.meta.mode, peer, index)
    if (entry !== undefined) {
      this.#backlog.sent(peer, `${entry.key} ${index}`)
      this.#firstCopy.get(entry)?.sent(index)
    }
    entry?.uploaded.add(bytes)
    entry?.sources.sent(peer, bytes)
    this.#init.onUploaded(bytes)
  }
}

/** Whether the corrupting-uploads test hook is on; set without its guard it is refused, loudly. */
function corruptUploadsHook (log: Logger): boolean {
  if (process.env[TEST_HOOK_CORRUPT_UPLOADS_ENV] !== '1') return false
  if (process.env[TEST_HOOKS_ENV] !== '1') {
    log.error('%s is set but %s is not 1: ignored, chunks are served as stored', TEST_HOOK_CORRUPT_UPLOADS_ENV, TEST_HOOKS_ENV)
    return false
  }
  log.error('test hook %s: every chunk served is corrupted', TEST_HOOK_CORRUPT_UPLOADS_ENV)
  return true
}

/** A copy of `data` with its middle byte inverted (the store's buffer may be shared: never edited). */
function withFlippedByte (data: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(data)
  if (copy.length > 0) copy[copy.length >> 1]! ^= 0xff
  return copy
}
