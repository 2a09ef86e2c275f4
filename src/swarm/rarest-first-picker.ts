import { DEFAULT_MAX_REQUESTERS_PER_CHUNK, DEFAULT_RANDOM_FIRST, PEER_SCAN_FACTOR, RANDOM_PICK_PROBES } from './constants.js'
import type { Picker } from './picker.js'
import type { Bitfield } from '../util/bitfield.js'

export interface RarestFirstPickerInit {
  /** Number of chunks in the content. */
  size: number
  /** Chunks already held (resume); copied. */
  have?: Bitfield
  /**
   * Random-first policy: while fewer than this many chunks are held, picks are uniform at random among
   * what the peer has, not rarest-first, so a newcomer quickly holds something to trade (BitTorrent's
   * "random first piece"). 0 turns it off. Default DEFAULT_RANDOM_FIRST.
   */
  randomFirst?: number
  /**
   * Endgame policy: once nothing is pickable (every missing chunk that anyone holds is in flight), a
   * chunk may be requested from up to this many peers at once, never twice from the same peer, so the
   * last chunks are not held hostage by one slow peer. 1 turns endgame off. Default 2.
   */
  maxRequestersPerChunk?: number
  /** Source of randomness in [0, 1), for reproducible tests. Default Math.random. */
  random?: () => number
}

const WANTED = 0
const IN_FLIGHT = 1
const HELD = 2

/**
 * Rarest-first chunk picker in the manner of libtorrent's piece picker. Every wanted chunk (missing,
 * not in flight) sits in the bucket of its availability count; a count change moves it between two
 * buckets in O(1), and each bucket is kept in random order (insertion swaps with a random slot) so
 * that walking a bucket from a random start breaks ties at random. A pick walks the buckets from the
 * rarest up and stops as soon as it has enough, so in the common case it touches a few entries, not
 * every chunk. For a peer that holds few chunks it walks the peer's set bits instead.
 */
export class RarestFirstPicker implements Picker {
  readonly size: number
  readonly randomFirst: number
  readonly maxRequestersPerChunk: number
  readonly #random: () => number
  readonly #state: Uint8Array
  readonly #avail: Uint32Array
  /** Position of a wanted chunk inside its bucket, -1 when not in a bucket. */
  readonly #pos: Int32Array
  readonly #buckets: number[][] = [[]]
  readonly #requesters = new Map<number, string[]>()
  /** One bit per chunk in state WANTED (Bitfield layout), so a peer offering none of them is seen in size/8 byte ANDs. */
  readonly #wantedBits: Uint8Array
  /** Chunks a reader waits for (prioritize()), in the order asked; left when held. */
  readonly #priority = new Set<number>()
  #missing = 0
  #held = 0
  #wanted = 0

  constructor (init: RarestFirstPickerInit) {
    this.size = init.size
    this.randomFirst = init.randomFirst ?? DEFAULT_RANDOM_FIRST
    this.maxRequestersPerChunk = Math.max(1, init.maxRequestersPerChunk ?? DEFAULT_MAX_REQUESTERS_PER_CHUNK)
    this.#random = init.random ?? Math.random
    this.#state = new Uint8Array(this.size)
    this.#avail = new Uint32Array(this.size)
    this.#pos = new Int32Array(this.size).fill(-1)
    this.#wantedBits = new Uint8Array(Math.ceil(this.size / 8))
    for (let i = 0; i < this.size; i++) {
      if (init.have?.has(i) === true) {
        this.#state[i] = HELD
        this.#held++
      } else {
        this.#missing++
        this.#wanted++
        this.#setWanted(i, true)
        this.#insert(i)
      }
    }
  }

  get missing (): number { return this.#missing }
  get inFlight (): number { return this.#requesters.size }
  get pickable (): number { return this.#wanted - this.#buckets[0]!.length }
  get endgame (): boolean { return this.pickable === 0 && this.#requesters.size > 0 }

  /** Availability count the picker holds for `index`. */
  availability (index: number): number {
    return this.#avail[index] ?? 0
  }

  has (index: number): boolean {
    return this.#state[index] === HELD
  }

  /** True when `index` is missing and not in flight. */
  wanted (index: number): boolean {
    return this.#state[index] === WANTED
  }

  requesters (index: number): readonly string[] {
    return this.#requesters.get(index) ?? []
  }

  missingIndexes (limit: number): number[] {
    const out: number[] = []
    for (let i = 0; i < this.size && out.length < limit; i++) {
      if (this.#state[i] !== HELD) out.push(i)
    }
    return out
  }

  availabilityIncreased (index: number): void {
    if (this.#state[index] === WANTED) {
      this.#remove(index)
      this.#avail[index]!++
      this.#insert(index)
    } else {
      this.#avail[index]!++
    }
  }

  availabilityDecreased (index: number): void {
    if (this.#avail[index] === 0) return
    if (this.#state[index] === WANTED) {
      this.#remove(index)
      this.#avail[index]!--
      this.#insert(index)
    } else {
      this.#avail[index]!--
    }
  }

  pick (peerHas: Bitfield, count: number, peer: string): number[] {
    if (count <= 0 || this.#missing === 0) return []
    const chosen: number[] = []
    // A pass offers every peer with free slots a pick; most of them hold nothing still wanted, and the
    // bucket walk would visit every wanted chunk to find that out (the simulator's profile at 10,000
    // peers: most of the CPU). The byte-wise check gives the same answer first.
    if (this.#offersWanted(peerHas)) {
      if (this.#priority.size > 0) this.#pickPriority(peerHas, count, chosen)
      if (chosen.length < count && this.#held < this.randomFirst) this.#pickRandom(peerHas, count, chosen)
      if (chosen.length < count) this.#pickRarest(peerHas, count, chosen)
    }
    for (const index of chosen) {
      this.#remove(index)
      this.#wanted--
      this.#setWanted(index, false)
      this.#state[index] = IN_FLIGHT
      this.#requesters.set(index, [peer])
    }
    if (chosen.length < count && this.pickable === 0) this.#pickEndgame(peerHas, count, peer, chosen)
    return chosen
  }

  /**
   * Chunks to pick before any other, in the order given, whatever their rarity (a reader streams
   * them: the HTTP data plane's Range). Held or out-of-range indexes are ignored.
   */
  prioritize (indexes: Iterable<number>): void {
    for (const index of indexes) {
      if (Number.isInteger(index) && index >= 0 && index < this.size && this.#state[index] !== HELD) this.#priority.add(index)
    }
  }

  abandon (index: number, peer: string): void {
    const list = this.#requesters.get(index)
    if (list === undefined) return
    const at = list.indexOf(peer)
    if (at === -1) return
    list.splice(at, 1)
    if (list.length > 0) return
    this.#requesters.delete(index)
    this.#state[index] = WANTED
    this.#wanted++
    this.#setWanted(index, true)
    this.#insert(index)
  }

  markHave (index: number): string[] {
    const state = this.#state[index]
    if (state === undefined || state === HELD) return []
    let losers: string[] = []
    if (state === WANTED) {
      this.#remove(index)
      this.#wanted--
      this.#setWanted(index, false)
    } else {
      losers = this.#requesters.get(index) ?? []
      this.#requesters.delete(index)
    }
    this.#state[index] = HELD
    this.#priority.delete(index)
    this.#missing--
    this.#held++
    return losers
  }

  /** True when `peerHas` holds at least one chunk in state WANTED. */
  #offersWanted (peerHas: Bitfield): boolean {
    const bytes = peerHas.bytes
    const wanted = this.#wantedBits
    if (bytes.length !== wanted.length) return true
    for (let i = 0; i < wanted.length; i++) if ((bytes[i]! & wanted[i]!) !== 0) return true
    return false
  }

  #setWanted (index: number, on: boolean): void {
    const mask = 0x80 >> (index & 7)
    if (on) this.#wantedBits[index >> 3]! |= mask
    else this.#wantedBits[index >> 3]! &= ~mask
  }

  /** Wanted chunks of the priority list the peer has, in the list's order. */
  #pickPriority (peerHas: Bitfield, count: number, chosen: number[]): void {
    for (const index of this.#priority) {
      if (chosen.length >= count) return
      if (this.#state[index] === WANTED && peerHas.has(index) && !chosen.includes(index)) {
        chosen.push(index)
      }
    }
  }

  /** Uniform random picks among the peer's wanted chunks, by random probing (cheap while most chunks are wanted). */
  #pickRandom (peerHas: Bitfield, count: number, chosen: number[]): void {
    const limit = Math.min(count, this.randomFirst - this.#held)
    let probes = RANDOM_PICK_PROBES * Math.max(limit, 1)
    while (chosen.length < limit && probes-- > 0) {
      const index = Math.floor(this.#random() * this.size)
      if (this.#state[index] === WANTED && peerHas.has(index) && !chosen.includes(index)) {
        chosen.push(index)
      }
    }
  }

  #pickRarest (peerHas: Bitfield, count: number, chosen: number[]): void {
    // Random-first picks stay in their buckets until pick() moves them, so both walks skip what
    // `chosen` holds: a few entries, where a linear check is cheaper than allocating a Set per pick.
    if (peerHas.count * PEER_SCAN_FACTOR < this.pickable) {
      this.#pickRarestByPeer(peerHas, count, chosen)
      return
    }
    // Bucket 0 holds chunks nobody is known to have; a peer asking is expected to be counted already.
    for (let b = 1; b < this.#buckets.length && chosen.length < count; b++) {
      const bucket = this.#buckets[b]!
      const n = bucket.length
      if (n === 0) continue
      const start = Math.floor(this.#random() * n)
      for (let k = 0; k < n && chosen.length < count; k++) {
        const index = bucket[(start + k) % n]!
        if (peerHas.has(index) && !chosen.includes(index)) {
          chosen.push(index)
        }
      }
    }
  }

  #pickRarestByPeer (peerHas: Bitfield, count: number, chosen: number[]): void {
    const candidates: number[] = []
    for (const index of peerHas.indexes()) {
      if (this.#state[index] === WANTED && !chosen.includes(index)) candidates.push(index)
    }
    this.#shuffle(candidates)
    // Stable sort after a shuffle: rarest first, ties in random order.
    candidates.sort((a, b) => this.#avail[a]! - this.#avail[b]!)
    for (const index of candidates) {
      if (chosen.length >= count) break
      chosen.push(index)
    }
  }

  /** Duplicate requests for chunks in flight elsewhere: fewest requesters first, ties at random. */
  #pickEndgame (peerHas: Bitfield, count: number, peer: string, chosen: number[]): void {
    if (this.maxRequestersPerChunk < 2) return
    const candidates: number[] = []
    for (const [index, list] of this.#requesters) {
      if (list.length < this.maxRequestersPerChunk && !list.includes(peer) && peerHas.has(index)) candidates.push(index)
    }
    this.#shuffle(candidates)
    candidates.sort((a, b) => this.#requesters.get(a)!.length - this.#requesters.get(b)!.length)
    for (const index of candidates) {
      if (chosen.length >= count) break
      this.#requesters.get(index)!.push(peer)
      chosen.push(index)
    }
  }

  #insert (index: number): void {
    const b = this.#avail[index]!
    while (this.#buckets.length <= b) this.#buckets.push([])
    const bucket = this.#buckets[b]!
    const at = bucket.length
    bucket.push(index)
    // Swap with a random slot so each bucket stays in random order.
    const j = Math.floor(this.#random() * (at + 1))
    const other = bucket[j]!
    bucket[j] = index
    bucket[at] = other
    this.#pos[other] = at
    this.#pos[index] = j
  }

  #remove (index: number): void {
    const p = this.#pos[index]!
    if (p < 0) return
    const bucket = this.#buckets[this.#avail[index]!]!
    const last = bucket.pop()!
    if (last !== index) {
      bucket[p] = last
      this.#pos[last] = p
    }
    this.#pos[index] = -1
  }

  #shuffle (list: number[]): void {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random() * (i + 1))
      const t = list[i]!
      list[i] = list[j]!
      list[j] = t
    }
  }
}
