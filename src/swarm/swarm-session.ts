import { TypedEventEmitter } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { Availability } from './availability.js'
import {
  DEFAULT_BUSY_BACKOFF_MS, DEFAULT_CATCH_UP_LAG, DEFAULT_MAX_BUSY_BACKOFF_MS, DEFAULT_ELSEWHERE_RETRY_MS, DEFAULT_ENDGAME_DEPTH, DEFAULT_INITIAL_DEPTH, DEFAULT_INITIAL_REQUEST_TIMEOUT_MS, DEFAULT_MAX_ACTIVE_PEERS,
  DEFAULT_MAX_DEPTH, DEFAULT_MAX_IN_FLIGHT_BYTES, DEFAULT_MAX_STRIKES, DEFAULT_MIN_DEPTH, DEFAULT_MIN_REQUEST_TIMEOUT_MS,
  DEFAULT_MIN_TOTAL_REQUESTS, DEFAULT_PROGRESS_INTERVAL_MS, DEFAULT_STALL_RECHECK_MS, DEFAULT_TARGET_QUEUE_MS,
  DEFAULT_TARGET_TOTAL_QUEUE_MS, DEFAULT_TIMEOUT_FACTOR, DOWNLOAD_RATE_WINDOW_MS, MAX_EXCLUDED_PER_REQUEST, RATE_EWMA_ALPHA,
  STALLED_INDEXES_SHOWN
} from './constants.js'
import { DownloadRate } from './download-rate.js'
import { realClock } from './clock.js'
import { AbortedError, RequestCancelledError, RequestTimeoutError, SwarmStateError } from './errors.js'
import { RarestFirstPicker } from './rarest-first-picker.js'
import type { Clock, TimerHandle } from './clock.js'
import { Bitfield } from '../util/bitfield.js'
import type { ComponentLogger, Logger } from '@libp2p/interface'


/** "Ask peer P for chunk i": the only thing the session needs from the network. */
export interface SwarmTransport {
  /**
   * Resolves with the chunk's bytes. Rejects with an error whose `code` is ERR_PEER_DISCONNECTED (peer
   * gone: chunk re-queued, peer forgotten), ERR_PEER_BUSY (retried after a back-off), ERR_ASK_ELSEWHERE
   * (that chunk is taken from other holders for a while, then asked again) or ERR_NOT_HELD (peer's
   * announcement was stale); any other error counts as a strike. `lastResort`: the peer sent us
   * elsewhere for this chunk before and we know no other holder we may ask (REQUEST last_resort).
   * `excluded`: the peers we banned (REQUEST excluded), so a seeder can stop counting their claims.
   */
  requestChunk(peer: string, index: number, options: { signal: AbortSignal, lastResort?: boolean, excluded?: readonly string[] }): Promise<Uint8Array>
}

/** Where verified chunks go (the store). */
export interface ChunkSink {
  /** Chunks already held when the session starts. */
  readonly have: Bitfield
  /** True when `data` is chunk `index` (digest matches the manifest). */
  verify(index: number, data: Uint8Array): boolean
  /** Persists a verified chunk. A rejection fails the whole download. */
  write(index: number, data: Uint8Array): Promise<void>
}

export interface SwarmSessionInit {
  transport: SwarmTransport
  sink: ChunkSink
  /**
   * The content's one availability view, shared with whoever else reads or feeds it (the node's
   * gossip listener, the seeder's policies): the session reads it, adds what its peers tell it, and
   * bans into it. Without one the session keeps its own.
   */
  availability?: Availability
  /** Nominal chunk size in bytes (the last chunk of a file may be shorter); sizes depths and timeouts. */
  chunkSize: number
  /** Peers with requests in flight at once. Default 32. */
  maxActivePeers?: number
  /** See RarestFirstPickerInit.randomFirst. */
  randomFirst?: number
  /** See RarestFirstPickerInit.maxRequestersPerChunk. */
  maxRequestersPerChunk?: number
  /** Requests in flight to a peer whose rate is unknown. */
  initialDepth?: number
  minDepth?: number
  maxDepth?: number
  /**
   * Bytes of requests in flight plus chunks waiting to be written, over all peers (at least one
   * chunk). Bounds the memory of chunks on their way when a fast peer's measured rate would warrant
   * a deep queue or the disk is slower than the network. Default 32 MiB.
   */
  maxInFlightBytes?: number
  /** A peer's depth is its measured rate times this, in chunks. */
  targetQueueMs?: number
  /**
   * Requests in flight over all peers, outside endgame, are at most the download's measured rate
   * times this (in chunks), and at least minTotalRequests. Default DEFAULT_TARGET_TOTAL_QUEUE_MS;
   * Infinity: no cap beyond maxInFlightBytes.
   */
  targetTotalQueueMs?: number
  minTotalRequests?: number
  /** No cap while our holdings trail the peers' mean by more than this share of the content. Default DEFAULT_CATCH_UP_LAG. */
  catchUpLag?: number
  initialRequestTimeoutMs?: number
  minRequestTimeoutMs?: number
  /** Timeout = this x the time the peer should need for the request at its measured rate. */
  timeoutFactor?: number
  /** In endgame, requests a peer may have in flight (duplicates included). Default 1. */
  endgameDepth?: number
  /** Timeouts/failures after which a peer is dropped. */
  maxStrikes?: number
  /** First back-off after a 'busy' answer; it doubles with each further 'busy' in a row from that peer. */
  busyBackoffMs?: number
  /** The longest busy back-off. Default DEFAULT_MAX_BUSY_BACKOFF_MS. */
  maxBusyBackoffMs?: number
  /** After a peer answers 'ask elsewhere' for a chunk, it is not asked for that chunk again for this long. */
  elsewhereRetryMs?: number
  stallRecheckMs?: number
  progressIntervalMs?: number
  /** Download rate limit hook (e.g. a global TokenBucket's take), awaited before each request. */
  throttleDownload?: (bytes: number, options: { signal: AbortSignal }) => Promise<void>
  /** Randomness for the picker, for reproducible tests. */
  random?: () => number
  /** The node's logger, so its lines say which node wrote them. */
  logger?: ComponentLogger
  /** Time and timers (request timeouts, wake-ups, rates). Default realClock; a simulator passes a virtual one. */
  clock?: Clock
}

export interface SwarmProgress {
  /** Chunks held. */
  have: number
  /** Chunks in the content. */
  total: number
  /** Bytes downloaded and verified by this session. */
  bytes: number
  /** Verified bytes per second since the previous progress event. */
  rateBps: number
  /** Peers with requests in flight. */
  peers: number
}

export interface SwarmStats {
  /** Verified bytes written. */
  bytes: number
  /** Bytes received per peer (verified or not). */
  bytesByPeer: Map<string, number>
  /** Duplicate (endgame) requests issued. */
  duplicates: number
  /** Bytes received that were not written: late duplicates and corrupt chunks. */
  wastedBytes: number
  requests: number
  timeouts: number
  failures: number
  /** Scheduler passes run (each looks at the peers an event touched, plus picks); a stall must not make this climb. */
  passes: number
}

export interface SwarmPeerInfo {
  rateBps: number
  depth: number
  strikes: number
  inFlight: number
}

export interface SwarmSessionEvents {
  progress: CustomEvent<SwarmProgress>
  chunk: CustomEvent<{ index: number, peer: string }>
  stalled: CustomEvent<{ missing: number, missingIndexes: number[] }>
  banned: CustomEvent<{ peer: string, reason: string }>
  dropped: CustomEvent<{ peer: string, reason: string }>
  done: CustomEvent<SwarmStats>
}

interface Request {
  index: number
  controller: AbortController
  startedAt: number
  queuePosition: number
  done: boolean
  timedOut: boolean
  /** Asked with lastResort: the peer sent us elsewhere for it before and nobody else holds it. */
  lastResort: boolean
}

interface PeerState {
  id: string
  /** Arrival order: the tie-break of the scheduling order. */
  seq: number
  inflight: Map<number, Request>
  rateBps: number
  strikes: number
  backoffUntil: number
  /** 'busy' answers in a row (reset by a delivery). */
  busyStreak: number
  lastDeliveryAt: number
  /** Chunks this peer asked us to take elsewhere first (REJECT ELSEWHERE): index -> not asked again before. */
  deferred?: Map<number, number>
  /** Every chunk this peer ever sent us elsewhere for: asking it again, with no other holder, says lastResort. */
  elsewhere?: Set<number>
  /** Requests it failed with an error (not a timeout): a peer dropped with any is one whose claims failed. */
  errors: number
}

/**
 * Downloads one content from a changing set of peers: picks chunks rarest-first, keeps each peer's
 * request queue as deep as its measured rate warrants, bans peers that send bad data, strikes and
 * drops peers that time out, and reports stalls instead of hanging. It does no I/O itself; chunks come
 * from a SwarmTransport and go to a ChunkSink.
 */
export class SwarmSession extends TypedEventEmitter<SwarmSessionEvents> {
  readonly total: number
  readonly #init: SwarmSessionInit
  readonly #clock: Clock
  readonly #picker: RarestFirstPicker
  readonly #availability: Availability
  readonly #peers = new Map<string, PeerState>()
  /**
   * Peers whose pick could differ from the last pass (a request ended, it announced chunks, a chunk it
   * holds became wanted again, or a back-off, deferral or global limit held it back). Every other peer
   * was offered a pick and took all it could, so a pass looks only at these: a full scan per event
   * was half of a 10,000-peer simulation's CPU.
   */
  readonly #dirty = new Set<PeerState>()
  /** Peers that had room for more requests but were offered nothing wanted: a chunk wanted again concerns them. */
  readonly #hungry = new Set<PeerState>()
  /** Peers held back until a time (busy back-off, a deferral ending): peer -> when to look again. */
  readonly #sleeping = new Map<PeerState, number>()
  /**
   * Chunks some peer claimed and then failed to serve (NOT_HELD, or dropped with errors); with the
   * chunks banned peers claimed, the only ones asked again with lastResort. A peer sent elsewhere
   * with no holder in sight may be waiting for a first copy still on its way to someone (the
   * seeder's grace period): saying lastResort then would only buy a duplicate.
   */
  readonly #failedClaims: Bitfield
  /** Peers with chunks deferred (REJECT ELSEWHERE): a ban may end those deferrals early. */
  readonly #deferring = new Set<PeerState>()
  /** The earliest time in #sleeping (a lower bound). */
  #sleepUntil = Infinity
  /** The next pass looks at every peer (start, endgame, stall re-check). */
  #allDirty = true
  /** The wake timer fired: the next pass runs even if nothing looks dirty (sleeping peers are due). */
  #forcePass = false
  #peerSeq = 0
  /** Peers with requests in flight, and the requests (sums over #peers, kept as they change). */
  #activePeers = 0
  #requestsInFlight = 0
  #detachAvailability?: () => void
  readonly #dropped = new Set<string>()
  /** Verified bytes per second over all peers: sizes the request cap (#requestBudget). */
  readonly #rate = new DownloadRate(DOWNLOAD_RATE_WINDOW_MS)
  readonly #stats: SwarmStats = { bytes: 0, bytesByPeer: new Map(), duplicates: 0, wastedBytes: 0, requests: 0, timeouts: 0, failures: 0, passes: 0 }
  #running = false
  #finished = false
  #passQueued = false
  #pendingWrites = 0
  #stalled = false
  #wakeTimer?: TimerHandle
  #settle?: { resolve: () => void, reject: (err: Error) => void }
  #lastProgressAt = 0
  #lastProgressBytes = 0
  readonly #log: Logger
  /** DEBUG=shoal:swarm:trace: a line per request, delivery and 'ask elsewhere' (the bench's diagnosis of duplicates). */
  readonly #trace: Logger

  constructor (init: SwarmSessionInit) {
    super()
    this.#log = init.logger?.forComponent('shoal:swarm') ?? logger('shoal:swarm')
    this.#trace = init.logger?.forComponent('shoal:swarm:trace') ?? logger('shoal:swarm:trace')
    if (!(init.chunkSize > 0)) throw new SwarmStateError(`chunkSize must be positive, got ${init.chunkSize}`)
    this.#init = init
    this.#clock = init.clock ?? realClock
    this.total = init.sink.have.length
    this.#picker = new RarestFirstPicker({
      size: this.total,
      have: init.sink.have,
      randomFirst: init.randomFirst,
      maxRequestersPerChunk: init.maxRequestersPerChunk,
      random: init.random
    })
    this.#failedClaims = new Bitfield(this.total)
    this.#availability = init.availability ?? new Availability(this.total)
    if (this.#availability.size !== this.total) throw new SwarmStateError(`availability has ${this.#availability.size} chunks, the sink ${this.total}`)
    this.#detachAvailability = this.#availability.observe({
      availabilityIncreased: (index, peer) => {
        this.#picker.availabilityIncreased(index)
        this.#gained(peer, index)
      },
      availabilityDecreased: (index, peer) => {
        this.#picker.availabilityDecreased(index)
        if (this.#deferring.size > 0 && this.#availability.isBanned(peer)) this.#failedHolderGone(index)
      }
    })
  }

  /**
   * The claim on `index` of a peer we banned or dropped for failures is gone: a peer that sent us
   * elsewhere for it, with no other holder left, most likely counted that claim. It is asked again
   * now (with lastResort), not when its deferral runs out.
   */
  #failedHolderGone (index: number): void {
    for (const q of this.#deferring) {
      if (q.deferred?.has(index) !== true || this.#otherHolders(q, index) > 0) continue
      q.deferred.delete(index)
      this.#dirty.add(q)
      this.#schedule()
    }
  }

  /**
   * Whoever recorded it (a HAVE the node's gossip listener fed into a shared view, or peerHave here),
   * a chunk still wanted that a peer now holds gives that peer something new to pick; in endgame every
   * pass looks at every peer anyway.
   */
  #gained (peer: string, index: number): void {
    // wanted() first: a typed-array read, where endgame sums counters, and this runs per HAVE and member
    if (!(this.#picker.wanted(index) || this.#picker.endgame)) return
    const p = this.#peers.get(peer)
    if (p === undefined) return
    this.#dirty.add(p)
    this.#schedule()
  }

  /** Counters so far (a live object). */
  get stats (): SwarmStats {
    return this.#stats
  }

  /** Chunks still missing. */
  get missing (): number {
    return this.#picker.missing
  }

  /** Current view of a peer, or undefined when unknown, banned or dropped. */
  peerInfo (peer: string): SwarmPeerInfo | undefined {
    const p = this.#peers.get(peer)
    if (p === undefined) return undefined
    return { rateBps: p.rateBps, depth: this.#depth(p), strikes: p.strikes, inFlight: p.inflight.size }
  }

  /** True when `peer` sent a bad chunk and is never asked again by this session. */
  isBanned (peer: string): boolean {
    return this.#availability.isBanned(peer)
  }

  /** Adds a peer (optionally with what it holds). Banned peers are ignored; a dropped peer is re-admitted with a clean record. */
  addPeer (peer: string, bitfield?: Bitfield): void {
    if (this.#availability.isBanned(peer)) return
    this.#dropped.delete(peer)
    this.#dirty.add(this.#ensurePeer(peer))
    if (bitfield !== undefined) this.#availability.peerBitfield(peer, bitfield)
    this.#schedule()
  }

  /** Forgets a peer (it disconnected); its in-flight chunks are re-queued. */
  removePeer (peer: string): void {
    const p = this.#peers.get(peer)
    if (p !== undefined) {
      for (const req of [...p.inflight.values()]) this.#cancel(p, req, new RequestCancelledError(req.index, `peer ${peer} removed`))
      this.#peers.delete(peer)
      this.#dirty.delete(p)
      this.#hungry.delete(p)
      this.#sleeping.delete(p)
      this.#deferring.delete(p)
    }
    this.#availability.removePeer(peer)
    this.#schedule()
  }

  /** Records that `peer` announced `indexes` (HAVE). Unknown peers are added. */
  peerHave (peer: string, indexes: Iterable<number>): void {
    if (this.#availability.isBanned(peer) || this.#dropped.has(peer)) return
    this.#ensurePeer(peer)
    // the observer marks the peer dirty for each new chunk still wanted
    this.#availability.peerHave(peer, indexes)
  }

  /** Records a full bitfield announcement of `peer`. Unknown peers are added. */
  peerBitfield (peer: string, bitfield: Bitfield): void {
    if (this.#availability.isBanned(peer) || this.#dropped.has(peer)) return
    this.#dirty.add(this.#ensurePeer(peer))
    this.#availability.peerBitfield(peer, bitfield)
    this.#schedule()
  }

  /** Asks for `indexes` before any other chunk, in that order (a reader waits for them). */
  prioritize (indexes: Iterable<number>): void {
    this.#picker.prioritize(indexes)
    // Which peer should take a prioritized chunk first is the scheduling order's call: look at all.
    this.#allDirty = true
    this.#schedule()
  }

  /** Downloads until every chunk is held. Rejects with ERR_ABORTED on abort, cancelling requests in flight. */
  async run (options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#running || this.#finished) throw new SwarmStateError('a SwarmSession runs once; create a new session to download again')
    const signal = options.signal
    if (signal?.aborted === true) throw new AbortedError('download aborted before it started')
    this.#running = true
    let resolve!: () => void
    let reject!: (err: Error) => void
    const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
    this.#settle = { resolve, reject }
    const onAbort = (): void => { this.#stop(new AbortedError('download aborted')) }
    signal?.addEventListener('abort', onAbort, { once: true })
    this.#lastProgressAt = this.#clock.now()
    this.#checkDone()
    this.#schedule()
    try {
      await promise
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  #ensurePeer (peer: string): PeerState {
    let p = this.#peers.get(peer)
    if (p === undefined) {
      p = { id: peer, seq: this.#peerSeq++, inflight: new Map(), rateBps: 0, strikes: 0, backoffUntil: 0, busyStreak: 0, lastDeliveryAt: 0, errors: 0 }
      this.#peers.set(peer, p)
      this.#dirty.add(p)
      this.#availability.addPeer(peer)
    }
    return p
  }

  /** Coalesces every trigger within one tick into one scheduler pass. */
  #schedule (): void {
    if (!this.#running || this.#passQueued) return
    this.#passQueued = true
    queueMicrotask(() => {
      this.#passQueued = false
      if (this.#running && this.#passNeeded()) this.#pass()
    })
  }

  /**
   * False when a pass could change nothing: no peer to look at, not in endgame, and requests still
   * in flight (so no stall to report and their ends will trigger passes). Skipped passes were most of
   * the ~2,000 per download in the simulator: a delivery triggers two, an announcement one.
   */
  #passNeeded (): boolean {
    if (this.#forcePass) {
      this.#forcePass = false
      return true
    }
    return this.#dirty.size > 0 || this.#allDirty || this.#picker.endgame || (this.#picker.inFlight === 0 && this.#pendingWrites === 0)
  }

  #pass (): void {
    this.#stats.passes++
    if (this.#wakeTimer !== undefined) {
      this.#clock.clearTimeout(this.#wakeTimer)
      this.#wakeTimer = undefined
    }
    if (this.#picker.missing === 0) return
    const now = this.#clock.now()
    const endgameAtStart = this.#picker.endgame
    // In endgame any peer may take a duplicate of any chunk in flight, so every peer is looked at.
    if (now >= this.#sleepUntil) this.#wake(now)
    const candidates = this.#allDirty || endgameAtStart ? [...this.#peers.values()] : [...this.#dirty]
    this.#allDirty = false
    this.#dirty.clear()
    // Peers without strikes first, then fastest first, unmeasured ones last: the first in line get the
    // rarest chunks and, in endgame, the duplicates, which should go to peers known to be quick.
    if (candidates.length > 1) candidates.sort((a, b) => (a.strikes - b.strikes) || (b.rateBps - a.rateBps) || (a.seq - b.seq))
    const maxActive = this.#init.maxActivePeers ?? DEFAULT_MAX_ACTIVE_PEERS
    // Chunks received but not yet written count too: when the disk is slower than the network they
    // pile up in memory just like requests in flight.
    const maxInFlight = Math.max(1, Math.floor((this.#init.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES) / this.#init.chunkSize))
    const budget = this.#picker.endgame || this.#lag() > (this.#init.catchUpLag ?? DEFAULT_CATCH_UP_LAG) ? Infinity : this.#requestBudget(now)
    for (const p of candidates) {
      if (p.backoffUntil > now) {
        this.#sleep(p, p.backoffUntil)
        continue
      }
      // In endgame a peer only duplicates once its own queue has run down, and only when it has proved
      // its speed, so duplicates rescue the last chunks from slow peers instead of doubling every queue.
      let limit = this.#depth(p)
      if (this.#picker.endgame) limit = p.rateBps === 0 ? 0 : Math.min(limit, this.#init.endgameDepth ?? DEFAULT_ENDGAME_DEPTH)
      const own = limit - p.inflight.size
      if (own <= 0) {
        this.#hungry.delete(p)
        continue
      }
      // Held back by a limit over all peers: looked at again in the next pass.
      const free = Math.min(own, maxInFlight - this.#requestsInFlight - this.#pendingWrites, budget - this.#requestsInFlight)
      if (free <= 0 || (p.inflight.size === 0 && this.#activePeers >= maxActive)) {
        this.#dirty.add(p)
        continue
      }
      let field = this.#availability.bitfield(p.id)
      if (p.deferred !== undefined && field !== undefined) {
        const masked = this.#withoutDeferred(p, field, now)
        field = masked.field
        if (p.deferred !== undefined) this.#sleep(p, masked.until)
      }
      if (this.#picker.endgame && p.elsewhere !== undefined && field !== undefined) field = this.#withoutElsewhere(p, field)
      const picks = field === undefined || field.count === 0 ? [] : this.#picker.pick(field, free, p.id)
      if (picks.length < free) this.#hungry.add(p)
      else this.#hungry.delete(p)
      for (const index of picks) this.#start(p, index)
    }
    if (!endgameAtStart && this.#picker.endgame) {
      // Endgame began during this pass: peers not looked at may now take duplicates.
      this.#allDirty = true
      this.#schedule()
    }
    const idle = this.#picker.inFlight === 0 && this.#pendingWrites === 0
    if (idle && this.#picker.pickable === 0) {
      if (!this.#stalled) {
        this.#stalled = true
        const detail = { missing: this.#picker.missing, missingIndexes: this.#picker.missingIndexes(STALLED_INDEXES_SHOWN) }
        this.#log('stalled: %d chunks missing and no known peer holds any of them', detail.missing)
        this.safeDispatchEvent('stalled', { detail })
      }
    }
    // Wake for a back-off expiring, or (when nothing is in flight to wake us) on the slow stall timer.
    let wakeAt = this.#sleepUntil
    let recheck = false
    if (idle) {
      const stallAt = now + (this.#init.stallRecheckMs ?? DEFAULT_STALL_RECHECK_MS)
      if (stallAt < wakeAt) {
        wakeAt = stallAt
        recheck = true
      }
    }
    if (wakeAt !== Infinity) {
      this.#wakeTimer = this.#clock.setTimeout(() => {
        this.#wakeTimer = undefined
        if (recheck) this.#allDirty = true
        this.#forcePass = true
        this.#schedule()
      }, Math.max(1, wakeAt - now))
    }
  }

  /** Looks at `p` again at `until` (or sooner, when something about it changes). */
  #sleep (p: PeerState, until: number): void {
    const at = this.#sleeping.get(p)
    if (at === undefined || until < at) this.#sleeping.set(p, until)
    if (until < this.#sleepUntil) this.#sleepUntil = until
  }

  /** Moves the peers whose time came into #dirty. */
  #wake (now: number): void {
    this.#sleepUntil = Infinity
    for (const [p, at] of this.#sleeping) {
      if (at <= now) {
        this.#sleeping.delete(p)
        this.#dirty.add(p)
      } else if (at < this.#sleepUntil) {
        this.#sleepUntil = at
      }
    }
  }

  /**
   * The peer's bitfield without the chunks it deferred (a copy, only while some are deferred), and
   * when the earliest deferral ends. Deferred chunks keep counting as held for rarity: the peer has them.
   */
  #withoutDeferred (p: PeerState, field: Bitfield, now: number): { field: Bitfield, until: number } {
    let until = Infinity
    let masked: Bitfield | undefined
    for (const [index, at] of p.deferred!) {
      if (at <= now) {
        p.deferred!.delete(index)
        continue
      }
      until = Math.min(until, at)
      if (!field.has(index)) continue
      masked ??= field.clone()
      masked.clear(index)
    }
    if (p.deferred!.size === 0) {
      p.deferred = undefined
      this.#deferring.delete(p)
    }
    return { field: masked ?? field, until }
  }

  /**
   * In endgame, the peer's bitfield without the chunks it sent us elsewhere for that others hold: an
   * endgame pick is a duplicate, and a seeder's refusal window that ran out long ago would serve it.
   */
  #withoutElsewhere (p: PeerState, field: Bitfield): Bitfield {
    let masked: Bitfield | undefined
    for (const index of p.elsewhere!) {
      if (!field.has(index) || this.#picker.has(index) || this.#otherHolders(p, index) === 0) continue
      masked ??= field.clone()
      masked.clear(index)
    }
    return masked ?? field
  }

  /** How far our holdings trail the mean of our peers', as a share of the content (negative: ahead of them). */
  #lag (): number {
    const peers = this.#availability.peerCount
    if (peers === 0) return 0
    return (this.#availability.heldTotal / peers - (this.total - this.#picker.missing)) / this.total
  }

  /** Requests in flight over all peers that keep about targetTotalQueueMs of the download's rate queued. */
  #requestBudget (now: number): number {
    const target = this.#init.targetTotalQueueMs ?? DEFAULT_TARGET_TOTAL_QUEUE_MS
    if (target === Infinity) return Infinity
    const min = Math.max(1, this.#init.minTotalRequests ?? DEFAULT_MIN_TOTAL_REQUESTS)
    return Math.max(min, Math.ceil(this.#rate.at(now) * target / 1000 / this.#init.chunkSize))
  }

  #depth (p: PeerState): number {
    const min = this.#init.minDepth ?? DEFAULT_MIN_DEPTH
    const max = this.#init.maxDepth ?? DEFAULT_MAX_DEPTH
    let depth = this.#init.initialDepth ?? DEFAULT_INITIAL_DEPTH
    if (p.rateBps > 0) {
      const target = this.#init.targetQueueMs ?? DEFAULT_TARGET_QUEUE_MS
      depth = Math.ceil(p.rateBps * target / 1000 / this.#init.chunkSize)
    }
    // Each strike halves the queue a peer may hold, so a flaky peer cannot sit on many chunks.
    depth = Math.floor(depth / 2 ** p.strikes)
    return Math.min(max, Math.max(min, depth))
  }

  #timeoutMs (p: PeerState, queuePosition: number): number {
    if (p.rateBps === 0) return this.#init.initialRequestTimeoutMs ?? DEFAULT_INITIAL_REQUEST_TIMEOUT_MS
    const expected = queuePosition * this.#init.chunkSize * 1000 / p.rateBps
    return Math.max(this.#init.minRequestTimeoutMs ?? DEFAULT_MIN_REQUEST_TIMEOUT_MS, (this.#init.timeoutFactor ?? DEFAULT_TIMEOUT_FACTOR) * expected)
  }

  #start (p: PeerState, index: number): void {
    const lastResort = p.elsewhere?.has(index) === true && this.#otherHolders(p, index) === 0 &&
      (this.#failedClaims.has(index) || this.#availability.claimedByBanned(index))
    const req: Request = { index, controller: new AbortController(), startedAt: this.#clock.now(), queuePosition: p.inflight.size + 1, done: false, timedOut: false, lastResort }
    if (p.inflight.size === 0) this.#activePeers++
    p.inflight.set(index, req)
    this.#requestsInFlight++
    this.#stats.requests++
    const requesters = this.#picker.requesters(index).length
    if (requesters > 1) this.#stats.duplicates++
    if (this.#trace.enabled) this.#trace('ask %d %s requesters=%d holders=%d endgame=%s lastResort=%s', index, p.id, requesters, this.#availability.count(index), this.#picker.endgame, lastResort)
    this.#stalled = false
    void this.#request(p, req)
  }

  async #request (p: PeerState, req: Request): Promise<void> {
    const signal = req.controller.signal
    let timer: TimerHandle | undefined
    try {
      if (this.#init.throttleDownload !== undefined) await this.#init.throttleDownload(this.#init.chunkSize, { signal })
      if (req.done) return
      // The clock starts after the local rate limiter: waiting on ourselves is not the peer's fault.
      req.startedAt = this.#clock.now()
      const ms = this.#timeoutMs(p, req.queuePosition)
      timer = this.#clock.setTimeout(() => {
        req.timedOut = true
        req.controller.abort(new RequestTimeoutError(p.id, req.index, ms))
      }, ms)
      const excluded = this.#excluded()
      const data = await this.#init.transport.requestChunk(p.id, req.index, {
        signal,
        ...(req.lastResort ? { lastResort: true } : {}),
        ...(excluded.length > 0 ? { excluded } : {})
      })
      this.#clock.clearTimeout(timer)
      await this.#onData(p, req, data)
    } catch (err) {
      this.#onFailure(p, req, err)
    } finally {
      this.#clock.clearTimeout(timer)
    }
  }

  async #onData (p: PeerState, req: Request, data: Uint8Array): Promise<void> {
    const index = req.index
    this.#stats.bytesByPeer.set(p.id, (this.#stats.bytesByPeer.get(p.id) ?? 0) + data.length)
    if (req.done || !this.#running || this.#picker.has(index)) {
      // A duplicate that arrived anyway (its cancel lost the race).
      this.#stats.wastedBytes += data.length
      this.#finish(p, req)
      this.#schedule()
      return
    }
    if (!this.#init.sink.verify(index, data)) {
      this.#stats.wastedBytes += data.length
      this.#ban(p, `chunk ${index} failed verification`)
      return
    }
    if (this.#trace.enabled) this.#trace('got %d %s', index, p.id)
    const now = this.#clock.now()
    const interval = Math.max(1, now - Math.max(req.startedAt, p.lastDeliveryAt))
    const sample = data.length * 1000 / interval
    p.rateBps = p.rateBps === 0 ? sample : RATE_EWMA_ALPHA * sample + (1 - RATE_EWMA_ALPHA) * p.rateBps
    p.lastDeliveryAt = now
    p.busyStreak = 0
    this.#rate.add(data.length, now)
    req.done = true
    this.#untrack(p, req)
    for (const loser of this.#picker.markHave(index)) {
      if (loser === p.id) continue
      const lp = this.#peers.get(loser)
      const lreq = lp?.inflight.get(index)
      if (lp !== undefined && lreq !== undefined) this.#cancel(lp, lreq, new RequestCancelledError(index, `peer ${p.id} delivered it first`))
    }
    this.#pendingWrites++
    this.#schedule()
    try {
      await this.#init.sink.write(index, data)
    } catch (err) {
      this.#stop(err instanceof Error ? err : new Error(String(err)))
      return
    } finally {
      this.#pendingWrites--
    }
    this.#stats.bytes += data.length
    if (this.#trace.enabled) this.#trace('wrote %d', index)
    this.safeDispatchEvent('chunk', { detail: { index, peer: p.id } })
    this.#progress(false)
    this.#checkDone()
    this.#schedule()
  }

  #onFailure (p: PeerState, req: Request, err: unknown): void {
    if (req.done) return
    this.#finish(p, req)
    if (!this.#running) return
    const code = (err as { code?: unknown } | undefined)?.code
    if (this.#trace.enabled && code !== 'ERR_ASK_ELSEWHERE') this.#trace('fail %d %s %s', req.index, p.id, req.timedOut ? 'timeout' : String(code))
    if (req.timedOut) {
      this.#stats.timeouts++
      this.#strike(p, `request for chunk ${req.index} timed out`)
    } else if (code === 'ERR_PEER_DISCONNECTED') {
      this.#log('peer %s disconnected; chunk %d re-queued', p.id, req.index)
      this.removePeer(p.id)
    } else if (code === 'ERR_PEER_BUSY') {
      // Doubling: in a flash crowd most of an uploader's neighbours wait for its few slots, and at a
      // fixed 1 s three requests in four were answered 'busy' (simulator, 100 peers).
      const first = this.#init.busyBackoffMs ?? DEFAULT_BUSY_BACKOFF_MS
      const max = Math.max(first, this.#init.maxBusyBackoffMs ?? DEFAULT_MAX_BUSY_BACKOFF_MS)
      p.backoffUntil = this.#clock.now() + Math.min(max, first * 2 ** p.busyStreak)
      p.busyStreak++
    } else if (code === 'ERR_ASK_ELSEWHERE') {
      // A hint, not a fact: the peer still holds the chunk (it may be its last honest source), so its
      // availability stays and it is asked again once other holders had their chance, saying
      // lastResort when none is left. When the only others ever known to hold it are peers we banned,
      // their claims (which the peer may count) are what sent us away: asked again at once.
      p.elsewhere ??= new Set()
      p.elsewhere.add(req.index)
      if (this.#trace.enabled) this.#trace('elsewhere %d %s holders=%d', req.index, p.id, this.#availability.count(req.index))
      const onlyBannedClaimed = !req.lastResort && this.#otherHolders(p, req.index) === 0 && this.#availability.claimedByBanned(req.index)
      if (!onlyBannedClaimed) {
        p.deferred ??= new Map()
        p.deferred.set(req.index, this.#clock.now() + (this.#init.elsewhereRetryMs ?? DEFAULT_ELSEWHERE_RETRY_MS))
        this.#deferring.add(p)
        if (this.#otherHolders(p, req.index) > 0) this.#takeElsewhere(req.index)
      }
    } else if (code === 'ERR_NOT_HELD') {
      this.#failedClaims.set(req.index)
      this.#availability.peerLacks(p.id, req.index)
    } else {
      this.#stats.failures++
      p.errors++
      this.#strike(p, `request for chunk ${req.index} failed: ${(err as Error)?.message ?? String(err)}`)
    }
    this.#schedule()
  }

  /**
   * The other holders of a chunk a peer sent us elsewhere for take it before anything else. Picked at
   * its rarity it waited behind their other chunks until the deferral ran out, and the refusing peer
   * (the seeder, whose refusal window had run out too) sent it again: most of its duplicates (netns
   * bench, session 19).
   */
  #takeElsewhere (index: number): void {
    // #finish has woken the hungry holders already; the others pick it when their next request ends
    this.#picker.prioritize([index])
  }

  #strike (p: PeerState, reason: string): void {
    p.strikes++
    this.#log('peer %s strike %d: %s', p.id, p.strikes, reason)
    if (p.strikes < (this.#init.maxStrikes ?? DEFAULT_MAX_STRIKES)) return
    // What it claimed to hold it failed to serve. Not for timeouts alone: a slow peer (or a busy
    // machine) is no liar, and counting its claims as failed would buy duplicates from the seeder.
    const claimed = p.errors === 0 ? [] : [...this.#availability.bitfield(p.id)?.indexes() ?? []]
    for (const index of claimed) this.#failedClaims.set(index)
    this.#dropped.add(p.id)
    this.removePeer(p.id)
    if (this.#deferring.size > 0) for (const index of claimed) this.#failedHolderGone(index)
    this.safeDispatchEvent('dropped', { detail: { peer: p.id, reason: `${p.strikes} strikes, last: ${reason}` } })
  }

  #ban (p: PeerState, reason: string): void {
    this.#log('banning peer %s: %s', p.id, reason)
    // first, so the view's removal of its holdings is seen as a ban; in a shared view this removes
    // them for the node's other readers too
    this.#availability.ban(p.id)
    this.removePeer(p.id)
    this.safeDispatchEvent('banned', { detail: { peer: p.id, reason } })
  }

  /**
   * The peers a request names as banned (REQUEST excluded): the most recent bans, at most
   * MAX_EXCLUDED_PER_REQUEST. On every request, not only a last resort: a seeder learns whom to stop
   * counting from the first asks after a ban, before the chunks only that peer got are asked again.
   */
  #excluded (): readonly string[] {
    const banned = this.#availability.bannedPeers
    return banned.length <= MAX_EXCLUDED_PER_REQUEST ? banned : banned.slice(-MAX_EXCLUDED_PER_REQUEST)
  }

  /** Known holders of `index` besides `p` (banned peers hold nothing in the view). */
  #otherHolders (p: PeerState, index: number): number {
    return this.#availability.count(index) - (this.#availability.peerHas(p.id, index) ? 1 : 0)
  }

  /** Ends a request that will not deliver; idempotent. */
  #finish (p: PeerState, req: Request): void {
    if (req.done) return
    req.done = true
    this.#untrack(p, req)
    this.#picker.abandon(req.index, p.id)
    // Wanted again: a peer that holds it and had room for it may pick it now (none when the peer that
    // gave it back is its only known holder, as for a fresh chunk the origin answered 'busy' for).
    // the cheap tests first: a 'busy' answer ends most requests, and the scan is per hungry peer
    if (this.#hungry.size === 0 || !this.#picker.wanted(req.index)) return
    const index = req.index
    const others = this.#availability.count(index) - (this.#availability.peerHas(p.id, index) ? 1 : 0)
    if (others > 0) {
      for (const q of this.#hungry) if (!this.#dirty.has(q) && this.#availability.peerHas(q.id, index)) this.#dirty.add(q)
    }
  }

  /** Takes `req` off its peer's queue; the peer may pick again. */
  #untrack (p: PeerState, req: Request): void {
    if (p.inflight.get(req.index) !== req) return
    p.inflight.delete(req.index)
    this.#requestsInFlight--
    if (p.inflight.size === 0) this.#activePeers--
    this.#dirty.add(p)
  }

  #cancel (p: PeerState, req: Request, reason: Error): void {
    this.#finish(p, req)
    req.controller.abort(reason)
  }

  #progress (force: boolean): void {
    const now = this.#clock.now()
    const interval = this.#init.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS
    if (!force && now - this.#lastProgressAt < interval) return
    const elapsed = Math.max(1, now - this.#lastProgressAt)
    const rateBps = (this.#stats.bytes - this.#lastProgressBytes) * 1000 / elapsed
    this.#lastProgressAt = now
    this.#lastProgressBytes = this.#stats.bytes
    // an event nobody listens to costs an object and a dispatch per interval and session
    if (this.listenerCount('progress') === 0) return
    let peers = 0
    for (const p of this.#peers.values()) if (p.inflight.size > 0) peers++
    this.safeDispatchEvent('progress', { detail: { have: this.total - this.#picker.missing, total: this.total, bytes: this.#stats.bytes, rateBps, peers } })
  }

  #checkDone (): void {
    if (!this.#running || this.#picker.missing > 0 || this.#pendingWrites > 0) return
    this.#progress(true)
    this.#end()
    this.safeDispatchEvent('done', { detail: this.#stats })
    this.#settle?.resolve()
  }

  #stop (err: Error): void {
    if (!this.#running) return
    for (const p of this.#peers.values()) {
      for (const req of [...p.inflight.values()]) this.#cancel(p, req, err)
    }
    this.#end()
    this.#settle?.reject(err)
  }

  #end (): void {
    this.#running = false
    this.#finished = true
    // a shared view outlives the session: its picker need not hear of it any more
    this.#detachAvailability?.()
    this.#detachAvailability = undefined
    if (this.#wakeTimer !== undefined) this.#clock.clearTimeout(this.#wakeTimer)
    this.#wakeTimer = undefined
  }
}
