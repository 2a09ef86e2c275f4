import { BITFIELD_ON_SUBSCRIBE_DELAY_MS, BITFIELD_REPUBLISH_INTERVAL_MS, HAVE_FLUSH_DELAY_MS, HAVE_FLUSH_MAX_INDEXES } from '../src/net/constants.js'
import { DEFAULT_SEND_LOW_WATER } from '../src/net/xfer/constants.js'
import { REDISCOVER_INTERVAL_MS } from '../src/node/constants.js'
import { Availability } from '../src/swarm/availability.js'
import { ErrorCode, ShoalError } from '../src/errors.js'
import { ChunkNotHeldError, PeerBusyError, PeerDisconnectedError } from '../src/swarm/errors.js'
import { BusyUplinkPolicy } from '../src/swarm/busy-uplink-policy.js'
import { DEFAULT_BUSY_UPLINK_BACKLOG, RARE_ADMIT_HOLDERS, UPLOAD_IDLE_BACKLOG } from '../src/swarm/constants.js'
import { rareRequest } from '../src/swarm/rare-request.js'
import { FirstCopyPolicy } from '../src/swarm/first-copy-policy.js'
import type { AdmitReason } from '../src/swarm/first-copy-policy.js'
import { SwarmSession } from '../src/swarm/swarm-session.js'
import { UploadSlots } from '../src/swarm/upload-slots.js'
import { Bitfield } from '../src/util/bitfield.js'
import { seededRandom } from './rng.js'
import { VirtualClock } from './virtual-clock.js'
import type { PeerKind, SimConfig } from './sim-config.js'

/** The first seeder's id, as a downloader marks it from its bitfield answer. */
const ORIGINS = ['origin']
/** Shares of the receivers at which a chunk's spread is timed (--diag); the first is its first copy. */
export const SPREAD_SHARES = [0, 0.1, 0.5, 0.9, 1]
/** GossipSub's validation of a received message (its signature check) before delivery, ms. */
export const GOSSIP_VALIDATION_MS = 2

/** A request of one node's session, waiting at (or travelling to) the serving node. */
interface Job {
  from: SimNode
  index: number
  resolve: (data: Uint8Array) => void
  reject: (err: Error) => void
  /** The requester gave up (cancel, timeout, abort): never answered. */
  cancelled: boolean
  /** Bytes of it are on the wire already: a cancel comes too late to save them. */
  sending: boolean
  /** REQUEST last_resort: the requester was sent elsewhere for it before and knows no other holder. */
  lastResort: boolean
  /** REQUEST excluded: the peers the requester banned. */
  excluded?: readonly string[]
  /** Why the origin's first-copy rule admitted it (--diag). */
  reason?: AdmitReason
}

/** uplinkModel 'conn': what a holder keeps for one requester (its xfer stream and connection). */
interface Conn {
  /** Admitted bodies the stream has not written yet (UploadBacklog counts these). */
  readonly queue: Job[]
  /** Bodies written into the send buffer, oldest first: sent as far as the server knows, not cancellable. */
  readonly buffered: Job[]
  bufferedBytes: number
}

/** One virtual host: its links, what it holds, its upload policy and (for a receiver) its real SwarmSession. */
export class SimNode {
  readonly have: Bitfield
  readonly neighbours = new Set<SimNode>()
  readonly slots: UploadSlots
  /**
   * What this node knows of the swarm from gossip (production's entry.swarm). Only the origin's
   * policies, `--uplink rarest` and a bounded busy-uplink backlog read it, so otherwise a node keeps
   * none: applying every HAVE to a view nobody reads was a tenth of a 1,000-peer run.
   */
  readonly gossipView?: Availability
  session?: SwarmSession
  readonly controller = new AbortController()
  firstCopy?: FirstCopyPolicy
  busyUplink?: BusyUplinkPolicy
  online = false
  doneAt = Infinity
  departedAt = Infinity
  /** One-way access latency this host adds, ms. */
  accessMs = 0
  uploadedBytes = 0
  /** uplinkModel 'conn': the most bytes one connection's send buffer held (the write-ahead the model adds). */
  peakSendBuffer = 0
  readonly #queue: Job[] = []
  /** uplinkModel 'conn': one per requester with something queued or buffered; the uplink takes them in turn (Map order). */
  readonly #conns = new Map<SimNode, Conn>()
  #sending = false
  #busyError?: PeerBusyError
  /** When this host's downlink has received everything already sent to it. */
  downFreeAt = 0
  pendingHaves: number[] = []
  flushTimer?: unknown
  /** When flushTimer fires. */
  flushAt = Infinity
  /** When the last HAVE batch went out. */
  lastFlushAt = -Infinity
  /** The session's `chunk` events: verified writes, counted per index (must all be 1). */
  readonly writes: Uint8Array

  constructor (readonly id: string, readonly index: number, readonly up: number, readonly down: number, readonly kind: PeerKind | 'origin', readonly sim: SwarmSim) {
    this.have = new Bitfield(sim.config.chunks)
    this.writes = new Uint8Array(sim.config.chunks)
    this.slots = new UploadSlots({ slots: sim.config.uploadSlots, now: () => sim.clock.now(), ...sim.config.slotOverrides })
    if (kind === 'origin' || sim.config.uplinkOrder === 'rarest' || (sim.config.rareOverrides?.holders ?? RARE_ADMIT_HOLDERS) > 0) this.gossipView = new Availability(sim.config.chunks)
    // With an unbounded backlog (production's default) the rule answers 'ok' without reading anything.
    if (sim.config.busyUplink !== false && (sim.config.busyOverrides?.backlog ?? DEFAULT_BUSY_UPLINK_BACKLOG) !== Infinity) {
      this.gossipView ??= new Availability(sim.config.chunks)
      this.busyUplink = new BusyUplinkPolicy({ availability: this.gossipView, origins: () => ORIGINS, now: () => sim.clock.now(), ...sim.config.busyOverrides })
    }
  }

  /** Whether this node holds real chunks and announces what it holds (a relay serves them corrupted). */
  get holds (): boolean {
    return this.kind === 'honest' || this.kind === 'origin' || this.kind === 'relay'
  }

  /** What this node claims to hold: the other misbehaving peers claim everything. */
  get advertised (): Bitfield {
    return this.holds ? this.have : this.sim.full
  }

  /** A chunk request from `job.from` arrived. */
  receive (job: Job): void {
    const sim = this.sim
    if (!this.online) {
      sim.reply(job, this, () => { job.reject(new PeerDisconnectedError(this.id)) })
      return
    }
    const verdict = this.#admit(job.from, job.index, job.lastResort, job.excluded)
    this.sim.verdicts[verdict]++
    if (this.firstCopy !== undefined) job.reason = this.firstCopy.lastReason
    if (verdict === 'busy') {
      // one error per node: the session reads only its code, and 'busy' is most answers
      this.#busyError ??= new PeerBusyError(this.id)
      const err = this.#busyError
      sim.reply(job, this, () => { job.reject(err) })
    } else if (verdict === 'elsewhere') {
      // as the xfer client surfaces REJECT ELSEWHERE: the session defers this chunk at this peer
      sim.reply(job, this, () => { job.reject(new ShoalError(ErrorCode.ASK_ELSEWHERE, `peer ${this.id} asks to fetch chunk ${job.index} elsewhere`)) })
    } else if (verdict === 'not-held') {
      sim.reply(job, this, () => { job.reject(new ChunkNotHeldError(this.id, job.index)) })
    } else if (this.kind !== 'staller') {
      // A staller takes the request and never answers: only the requester's timeout ends it.
      if (this.sim.config.uplinkModel === 'conn') {
        this.#enqueueOnConn(job)
        return
      }
      this.#queue.push(job)
      if (!this.#sending) this.#sendNext()
    }
  }

  /** xfer-source's admit: held? upload slot? then the seeder's policy. */
  #admit (from: SimNode, index: number, lastResort: boolean, excluded: readonly string[] | undefined): 'ok' | 'busy' | 'elsewhere' | 'not-held' {
    if (this.kind === 'liar') return 'not-held'
    if (this.holds && !this.have.has(index)) return 'not-held'
    // as xfer-source's UploadBacklog: nothing queued for the uplink means a refusal would leave it idle
    // xfer-source's UploadBacklog: uploads admitted and not yet sent, the one on the wire included
    const backlog = this.sim.config.uplinkModel === 'conn' ? this.#connBacklog() : this.#queue.reduce((n, job) => n + (job.cancelled ? 0 : 1), this.#sending ? 1 : 0)
    const uplinkIdle = this.sim.config.idleAdmit !== false && backlog <= UPLOAD_IDLE_BACKLOG
    // as xfer-source: a chunk few hold (by this node's gossip view) passes the upload slots
    const rare = this.gossipView !== undefined && rareRequest(this.gossipView.count(index), backlog, this.sim.config.rareOverrides)
    if (this.slots.acquire(from.id, { uplinkIdle, rare }) === 'busy') return 'busy'
    // as xfer-source: the busy rule first, since the first-copy rule counts an 'ok' as an upload
    // and, as there, a last resort is never sent elsewhere by a claim-counting rule
    if (!lastResort && this.busyUplink?.admit(from.id, index, backlog) === 'elsewhere') return 'elsewhere'
    return this.firstCopy?.admit(from.id, index, { uplinkIdle, lastResort, ...(this.sim.config.reports === false ? {} : { excluded }) }) ?? 'ok'
  }

  /**
   * The uplink sends one chunk at a time, in arrival order over all requesters (the xfer server's
   * per-stream order under one FIFO upload bucket). The bytes then pass the receiver's downlink, a
   * FIFO too: a chunk ends when both links have carried it.
   */
  #sendNext (): void {
    const sim = this.sim
    let job: Job | undefined
    if (sim.config.uplinkOrder === 'rarest') job = this.#takeRarest()
    else while ((job = this.#queue.shift()) !== undefined && job.cancelled) { /* dropped by a CANCEL */ }
    if (job === undefined || !this.online) {
      this.#sending = false
      return
    }
    this.#sending = true
    job.sending = true
    this.#transmit(job, () => { this.#sendNext() })
  }

  /** Puts `job`'s chunk on the uplink now; `next` runs when its last byte left. */
  #transmit (job: Job, next: () => void): void {
    const sim = this.sim
    const size = sim.config.chunkSize
    const now = sim.clock.now()
    const lat = sim.latency(this, job.from)
    const upEnd = now + size * 1000 / this.up
    const to = job.from
    const downStart = Math.max(now + lat, to.downFreeAt)
    const downEnd = Math.max(downStart + size * 1000 / to.down, upEnd + lat)
    to.downFreeAt = downEnd
    this.uploadedBytes += size
    sim.onUpload(this, job, now, upEnd)
    const sent = job
    sim.clock.at(upEnd, () => {
      // as xfer-source's onUploaded: the seeder policy's grace runs from the send
      this.firstCopy?.sent(sent.index)
      next()
    })
    sim.clock.at(downEnd, () => {
      if (!this.online) {
        if (!sent.cancelled) sent.reject(new PeerDisconnectedError(this.id))
        return
      }
      if (sent.cancelled) {
        sim.lateBytes += size
        return
      }
      sent.resolve(this.kind === 'corrupt' || this.kind === 'relay' ? sim.corruptToken : sim.tokens[sent.index]!)
    })
  }

  /** As UploadBacklog sees it with per-stream queues: admitted bodies no stream has written yet. */
  #connBacklog (): number {
    let n = 0
    for (const conn of this.#conns.values()) for (const job of conn.queue) if (!job.cancelled) n++
    return n
  }

  #enqueueOnConn (job: Job): void {
    let conn = this.#conns.get(job.from)
    if (conn === undefined) {
      conn = { queue: [], buffered: [], bufferedBytes: 0 }
      this.#conns.set(job.from, conn)
    }
    conn.queue.push(job)
    this.#writeAhead(conn)
    if (!this.#sending) this.#sendNextConn()
  }

  /**
   * The stream's pump: it writes the next body while its buffer is at most the low-water mark
   * (waitForSendCapacity), so a body is "sent" that long before its bytes leave the host.
   */
  #writeAhead (conn: Conn): void {
    const limit = this.sim.config.sendBufferBytes ?? DEFAULT_SEND_LOW_WATER
    while (conn.queue.length > 0 && conn.bufferedBytes <= limit) {
      const job = conn.queue.shift()!
      if (job.cancelled) continue
      job.sending = true
      conn.buffered.push(job)
      conn.bufferedBytes += this.sim.config.chunkSize
      if (conn.bufferedBytes > this.peakSendBuffer) this.peakSendBuffer = conn.bufferedBytes
    }
  }

  /**
   * The uplink with one connection per requester: whole chunks from the connections' send buffers
   * in turn (TCP shares a link between flows; whole chunks in turn finish each body later than
   * interleaving would, but the link's bytes and the buffers' depth are the same).
   */
  #sendNextConn (): void {
    const sim = this.sim
    let conn: Conn | undefined
    let to: SimNode | undefined
    for (const [from, c] of this.#conns) {
      if (c.buffered.length > 0) {
        conn = c
        to = from
        break
      }
      // everything it had queued was cancelled
      if (c.queue.length === 0) this.#conns.delete(from)
    }
    if (conn === undefined || to === undefined || !this.online) {
      this.#sending = false
      return
    }
    // round robin: the connection goes to the end of the turn
    this.#conns.delete(to)
    this.#conns.set(to, conn)
    this.#sending = true
    const job = conn.buffered.shift()!
    this.#transmit(job, () => {
      conn.bufferedBytes -= sim.config.chunkSize
      this.#writeAhead(conn)
      if (conn.queue.length === 0 && conn.buffered.length === 0) this.#conns.delete(to)
      this.#sendNextConn()
    })
  }

  /** The queued request for the chunk fewest peers hold (oldest first among equals). */
  #takeRarest (): Job | undefined {
    let best = -1
    let bestCount = Infinity
    for (let i = 0; i < this.#queue.length; i++) {
      const job = this.#queue[i]!
      if (job.cancelled) continue
      const count = this.gossipView!.count(job.index)
      if (count < bestCount) {
        best = i
        bestCount = count
      }
    }
    if (best === -1) {
      this.#queue.length = 0
      return undefined
    }
    return this.#queue.splice(best, 1)[0]
  }

  /** Fails everything queued (this node left). */
  dropQueue (): void {
    const jobs = this.#queue.splice(0)
    for (const conn of this.#conns.values()) jobs.push(...conn.buffered, ...conn.queue)
    this.#conns.clear()
    for (const job of jobs) {
      if (!job.cancelled) this.sim.reply(job, this, () => { job.reject(new PeerDisconnectedError(this.id)) })
    }
    this.#sending = false
  }
}

/** Counters of one run beyond what each session keeps. */
export interface SimTotals {
  /** Uploads of the origin: [virtual ms at which the chunk left its uplink, bytes]. */
  originUploads: Array<[number, number]>
  /** Per chunk, when its first copy left the origin's uplink (virtual ms; Infinity: never). */
  originFirstSent: Float64Array
  /** The origin's uploads by the first-copy rule's reason, and by the recipient's kind when it misbehaves. */
  originUploadsByReason: Map<string, number>
}

/**
 * The network and the hosts of one simulated swarm: the origin, then the peers of the config, each
 * receiver running a real SwarmSession on the virtual clock. Announcements travel as GossipSub would
 * carry them (HAVE batches per HAVE_FLUSH_DELAY_MS, a full bitfield on join and every
 * BITFIELD_REPUBLISH_INTERVAL_MS, hop delays, loss), plus the direct GET_BITFIELD on connect.
 */
export class SwarmSim {
  readonly clock: VirtualClock
  readonly random: () => number
  readonly full: Bitfield
  /** The verified form of each chunk: a token of the chunk's length (one shared buffer, no real bytes). */
  readonly tokens: Uint8Array[]
  readonly corruptToken: Uint8Array
  readonly origin: SimNode
  readonly nodes: SimNode[] = []
  readonly online: SimNode[] = []
  readonly totals: SimTotals
  /** Answers of every holder to chunk requests, by kind (--diag). */
  readonly verdicts = { ok: 0, busy: 0, elsewhere: 0, 'not-held': 0 }
  /** HAVE batches published (each one GossipSub message, one signature, in production). */
  haveBatches = 0
  /** Bytes whose request was cancelled after they went on the wire. */
  lateBytes = 0
  /** Verified copies of each chunk so far, over receivers (--diag: spread). */
  readonly #copies: Uint32Array
  /** Honest copies at which a chunk reaches each share of SPREAD_SHARES of the honest receivers. */
  readonly #spreadCopies: number[]
  /** Per chunk, when its honest copies reached each share of SPREAD_SHARES of the honest receivers (virtual ms; Infinity: not yet). */
  readonly spreadAt: Float64Array[]
  /** Per virtual second: ms of receivers' uplinks spent sending (by the send's start; --diag). */
  readonly receiverUplinkMs: number[] = []
  /** Peers some session banned. */
  readonly banned = new Set<string>()
  #unfinished = 0

  constructor (readonly config: SimConfig) {
    this.clock = new VirtualClock({ resolutionMs: config.clockResolutionMs })
    this.#copies = new Uint32Array(config.chunks)
    const honest = config.peers.filter(p => p.kind === 'honest').length
    this.#spreadCopies = SPREAD_SHARES.map(share => Math.max(1, Math.ceil(share * honest)))
    this.spreadAt = SPREAD_SHARES.map(() => new Float64Array(config.chunks).fill(Infinity))
    this.totals = { originUploads: [], originFirstSent: new Float64Array(config.chunks).fill(Infinity), originUploadsByReason: new Map() }
    this.random = seededRandom(config.seed)
    this.full = new Bitfield(config.chunks)
    this.full.setAll()
    const buffer = new ArrayBuffer(config.chunkSize)
    this.tokens = Array.from({ length: config.chunks }, () => new Uint8Array(buffer))
    this.corruptToken = new Uint8Array(buffer)
    this.origin = this.#addNode('origin', config.originUp, config.originDown, 'origin')
    this.origin.have.setAll()
    if (config.policy === 'first-copy') this.origin.firstCopy = new FirstCopyPolicy({ availability: this.origin.gossipView!, now: () => this.clock.now(), spreadCopies: config.firstCopySpread, ...config.originOverrides })
    this.origin.online = true
    this.online.push(this.origin)
    config.peers.forEach((spec, i) => {
      const node = this.#addNode(`p${i}`, spec.up, spec.down, spec.kind)
      if (spec.kind === 'honest') this.#unfinished++
      this.clock.at(spec.arriveMs, () => { this.#arrive(node) })
      if (spec.departMs !== Infinity) this.clock.at(spec.departMs, () => { this.#depart(node) })
    })
  }

  /** Honest peers that neither finished nor left. */
  get unfinished (): number {
    return this.#unfinished
  }

  /** Runs until every honest peer finished or left, or the time limit. */
  async run (): Promise<void> {
    await this.clock.run({ untilMs: this.config.untilMs, done: () => this.#unfinished === 0 })
  }

  /** One-way latency between two hosts, ms. */
  latency (a: SimNode, b: SimNode): number {
    return a.accessMs + b.accessMs
  }

  /** A receiver verified chunk `index`: times the shares of the honest receivers the chunk reached (--diag). */
  #noteCopy (node: SimNode, index: number): void {
    if (node.kind !== 'honest') return
    const copies = ++this.#copies[index]!
    for (let s = 0; s < this.#spreadCopies.length; s++) {
      if (copies === this.#spreadCopies[s]) this.spreadAt[s]![index] = this.clock.now()
    }
  }

  /** Sends an answer (a refusal) back to the requester, one trip later. */
  reply (job: Job, from: SimNode, answer: () => void): void {
    this.clock.at(this.clock.now() + this.latency(from, job.from), () => { if (!job.cancelled) answer() })
  }

  onUpload (node: SimNode, job: Job, start: number, end: number): void {
    if (node !== this.origin) {
      const b = Math.floor(start / 1000)
      this.receiverUplinkMs[b] = (this.receiverUplinkMs[b] ?? 0) + (end - start)
      return
    }
    const key = `${job.reason ?? 'ok'}${job.from.kind === 'honest' ? '' : ` (to ${job.from.kind})`}`
    this.totals.originUploadsByReason.set(key, (this.totals.originUploadsByReason.get(key) ?? 0) + 1)
    this.totals.originUploads.push([end, this.config.chunkSize])
    if (end < this.totals.originFirstSent[job.index]!) this.totals.originFirstSent[job.index] = end
  }

  #addNode (id: string, up: number, down: number, kind: PeerKind | 'origin'): SimNode {
    const node = new SimNode(id, this.nodes.length, up, down, kind, this)
    node.accessMs = this.config.latencyMs / 2 * (0.5 + this.random())
    this.nodes.push(node)
    return node
  }

  #arrive (node: SimNode): void {
    node.online = true
    this.online.push(node)
    if (node.kind === 'honest' || node.kind === 'relay') this.#startSession(node)
    // The DHT lookup answers after discoveryMs; the node then connects to providers.
    this.clock.at(this.clock.now() + this.config.discoveryMs, () => { this.#discover(node) })
    this.#periodic(node)
  }

  #startSession (node: SimNode): void {
    const session = new SwarmSession({
      transport: { requestChunk: async (peer, index, o) => await this.#request(node, peer, index, o.signal, o.lastResort === true, o.excluded) },
      sink: {
        have: node.have,
        verify: (index, data) => data === this.tokens[index],
        write: async index => {
          node.writes[index]!++
          node.have.set(index)
        }
      },
      chunkSize: this.config.chunkSize,
      maxActivePeers: this.config.maxPeers,
      random: this.random,
      clock: this.clock,
      ...this.config.sessionOverrides
    })
    node.session = session
    session.addEventListener('chunk', ({ detail }) => {
      this.#noteCopy(node, detail.index)
      this.#announceHave(node, detail.index)
    })
    session.addEventListener('banned', ({ detail }) => { this.banned.add(detail.peer) })
    session.run({ signal: node.controller.signal }).then(() => {
      node.doneAt = this.clock.now()
      if (node.kind === 'honest') this.#unfinished--
      if (this.config.peers[node.index - 1]!.seedMs !== Infinity) {
        this.clock.at(this.clock.now() + this.config.peers[node.index - 1]!.seedMs, () => { this.#depart(node) })
      }
    }, () => { /* aborted: the node left */ })
  }

  async #request (from: SimNode, peerId: string, index: number, signal: AbortSignal, lastResort: boolean, excluded: readonly string[] | undefined): Promise<Uint8Array> {
    const peer = this.#byId(peerId)
    if (peer === undefined || !peer.online || !from.neighbours.has(peer)) throw new PeerDisconnectedError(peerId)
    return await new Promise<Uint8Array>((resolve, reject) => {
      const job: Job = { from, index, resolve, reject, cancelled: false, sending: false, lastResort, ...(excluded === undefined ? {} : { excluded }) }
      // The listener is not removed once the promise settles: an abort after that only marks a job
      // nobody looks at any more, and removing it was a visible share of the profile. The signal is
      // the request's own and dies with it.
      signal.addEventListener('abort', () => {
        job.cancelled = true
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
      }, { once: true })
      this.clock.at(this.clock.now() + this.latency(from, peer), () => { if (!job.cancelled) peer.receive(job) })
    })
  }

  #byId (id: string): SimNode | undefined {
    if (id === 'origin') return this.origin
    return this.nodes[Number(id.slice(1)) + 1]
  }

  /** Connects a newcomer to the providers a DHT lookup would return: the origin first, then random members with room. */
  #discover (node: SimNode): void {
    if (!node.online) return
    const want = Math.min(this.config.providersPerLookup, this.config.maxPeers) - node.neighbours.size
    if (want <= 0) return
    const candidates: SimNode[] = []
    if (!node.neighbours.has(this.origin) && this.origin.neighbours.size < this.config.originMaxPeers) candidates.push(this.origin)
    for (let tries = 0; tries < want * 4 && candidates.length < want; tries++) {
      const other = this.online[Math.floor(this.random() * this.online.length)]!
      if (other === node || other === this.origin || !other.online || node.neighbours.has(other) || candidates.includes(other)) continue
      if (other.neighbours.size >= this.config.maxPeers) continue
      candidates.push(other)
    }
    for (const other of candidates) this.#connect(node, other)
  }

  /** A connection: each side probes the other's bitfield (GET_BITFIELD) one round trip later. */
  #connect (a: SimNode, b: SimNode): void {
    a.neighbours.add(b)
    b.neighbours.add(a)
    const rtt = 2 * this.latency(a, b)
    this.clock.at(this.clock.now() + rtt, () => {
      if (!a.online || !b.online || !a.neighbours.has(b)) return
      a.session?.addPeer(b.id, b.advertised.clone())
      b.session?.addPeer(a.id, a.advertised.clone())
      a.gossipView?.peerBitfield(b.id, b.advertised)
      b.gossipView?.peerBitfield(a.id, a.advertised)
    })
    // Joining the topic: each member publishes its full BITFIELD on gossip shortly after seeing the
    // other subscribe (the store's real bitfield, as the announcer does).
    this.clock.at(this.clock.now() + BITFIELD_ON_SUBSCRIBE_DELAY_MS + this.latency(a, b), () => {
      if (!a.online || !b.online || !a.neighbours.has(b)) return
      if (this.random() >= this.config.gossipLoss) a.session?.peerBitfield(b.id, b.advertised.clone())
      if (this.random() >= this.config.gossipLoss) b.session?.peerBitfield(a.id, a.advertised.clone())
    })
  }

  #announceHave (node: SimNode, index: number): void {
    node.pendingHaves.push(index)
    if (node.pendingHaves.length >= HAVE_FLUSH_MAX_INDEXES) {
      this.#flushHaves(node)
    } else {
      // as HaveAnnouncer: at most one batch per interval, the first at once after a quiet interval;
      // experiment (--have-rare-ms): a chunk few hold (this node's gossip view) goes out sooner
      const rare = this.config.haveRareMs !== undefined && node.gossipView !== undefined && node.gossipView.count(index) <= RARE_ADMIT_HOLDERS
      const delay = rare ? this.config.haveRareMs! : this.config.haveFlushMs ?? HAVE_FLUSH_DELAY_MS
      const wait = this.config.haveLeading === false ? delay : Math.max(0, node.lastFlushAt + delay - this.clock.now())
      const at = this.clock.now() + wait
      if (node.flushTimer !== undefined && rare && at < node.flushAt) {
        this.clock.clearTimeout(node.flushTimer)
        node.flushTimer = undefined
      }
      if (node.flushTimer === undefined) {
        node.flushAt = at
        node.flushTimer = this.clock.setTimeout(() => { this.#flushHaves(node) }, wait)
      }
    }
  }

  #flushHaves (node: SimNode): void {
    this.clock.clearTimeout(node.flushTimer)
    node.flushTimer = undefined
    const indexes = node.pendingHaves
    node.pendingHaves = []
    node.lastFlushAt = this.clock.now()
    if (indexes.length === 0 || !node.online) return
    this.haveBatches++
    this.#gossip(node, member => {
      member.session?.peerHave(node.id, indexes)
      member.gossipView?.peerHave(node.id, indexes)
    })
  }

  /**
   * Delivers one announcement of `from` to each member it reaches (one event for all of them), each
   * delivery lost with probability gossipLoss. Production flood-publishes (shoalGossipsub
   * `floodPublish`): the publisher sends its own message to every topic member it is connected to,
   * and a node's members here are exactly its connections, so every copy is one hop: a network trip
   * plus GossipSub's validation (signature check). The mesh's forwards only bring later duplicates.
   */
  #gossip (from: SimNode, deliver: (member: SimNode) => void): void {
    const members: SimNode[] = []
    for (const member of from.neighbours) {
      if (this.random() < this.config.gossipLoss) continue
      members.push(member)
    }
    if (members.length === 0) return
    // Arrivals are rounded up to the gossip tick: a session then handles the announcements of one
    // tick in one scheduler pass (see docs/simulator.md, "simplifications").
    const at = Math.ceil((this.clock.now() + this.config.latencyMs + GOSSIP_VALIDATION_MS) / this.config.gossipTickMs) * this.config.gossipTickMs
    this.clock.at(at, () => {
      if (!from.online) return
      for (const member of members) if (member.online && member.neighbours.has(from)) deliver(member)
    })
  }

  /** The full-bitfield republish and the downloader's re-discovery, on their production intervals. */
  #periodic (node: SimNode): void {
    const jitter = this.random()
    this.clock.at(this.clock.now() + BITFIELD_REPUBLISH_INTERVAL_MS * jitter, () => { this.#republish(node) })
    this.clock.at(this.clock.now() + REDISCOVER_INTERVAL_MS * (0.5 + jitter / 2), () => { this.#rediscover(node) })
  }

  #republish (node: SimNode): void {
    if (!node.online) return
    const field = node.advertised.clone()
    this.#gossip(node, member => {
      member.session?.peerBitfield(node.id, field)
      member.gossipView?.peerBitfield(node.id, field)
    })
    this.clock.at(this.clock.now() + BITFIELD_REPUBLISH_INTERVAL_MS, () => { this.#republish(node) })
  }

  #rediscover (node: SimNode): void {
    if (!node.online || node.doneAt !== Infinity) return
    // Re-probes the bitfields of the peers it knows and tops its peer set up when churn thinned it.
    for (const other of node.neighbours) node.session?.addPeer(other.id, other.advertised.clone())
    if (node.neighbours.size < this.config.providersPerLookup / 2) this.#discover(node)
    this.clock.at(this.clock.now() + REDISCOVER_INTERVAL_MS, () => { this.#rediscover(node) })
  }

  #depart (node: SimNode): void {
    if (!node.online) return
    node.online = false
    node.departedAt = this.clock.now()
    const at = this.online.indexOf(node)
    if (at !== -1) {
      this.online[at] = this.online[this.online.length - 1]!
      this.online.pop()
    }
    if (node.kind === 'honest' && node.doneAt === Infinity) this.#unfinished--
    node.dropQueue()
    for (const other of node.neighbours) {
      const lat = this.latency(node, other)
      this.clock.at(this.clock.now() + lat, () => {
        other.neighbours.delete(node)
        other.session?.removePeer(node.id)
        other.gossipView?.removePeer(node.id)
        other.busyUplink?.removePeer(node.id)
        other.slots.release(node.id)
      })
    }
    node.neighbours.clear()
    node.controller.abort()
  }
}
