import { Bitfield } from '../util/bitfield.js'

/** Told about every change of a chunk's availability count (the picker keeps its buckets with it), and whose holding changed. */
export interface AvailabilityObserver {
  availabilityIncreased(index: number, peer: string): void
  availabilityDecreased(index: number, peer: string): void
}

/** Read-only view of who holds what, as policies need it. */
export interface AvailabilityView {
  readonly size: number
  /** Number of known peers holding `index`. */
  count(index: number): number
  /** True when `peer` is known to hold `index`. */
  peerHas(peer: string, index: number): boolean
  /** True when `peer` is a known member (it announced or was probed), banned or not. */
  knows(peer: string): boolean
  /** Known members not banned. */
  readonly peerCount: number
}

/**
 * Who holds which chunk of one content, from bitfields and HAVE announcements: a bitfield per peer and
 * a count per chunk. A node keeps one per content and everything reads it: the download's picker,
 * the seeder's policies, the dashboard. Every change is passed on to the observers. A banned peer
 * (it sent a chunk that failed verification) holds nothing here from then on, whatever it announces,
 * so a ban by the download reaches the seeder's policies and every later session of the content.
 */
export class Availability implements AvailabilityView {
  readonly size: number
  readonly #counts: Uint32Array
  readonly #peers = new Map<string, Bitfield>()
  #heldTotal = 0
  readonly #observers = new Set<AvailabilityObserver>()
  /**
   * #observers as an array, rebuilt when one comes or goes: every HAVE of every peer calls them, and
   * a Set's iterator per call was a visible share of a 1,000-peer simulation.
   */
  #observerList: AvailabilityObserver[] = []
  readonly #banned = new Set<string>()
  /** The same, oldest ban first, as requests name them: one array, replaced on each ban, so a request reads it without a copy. */
  #bannedList: readonly string[] = []
  /** Chunks some banned peer claimed (before or after its ban): a seeder may still count those claims. */
  readonly #bannedClaims: Bitfield

  constructor (size: number, observer?: AvailabilityObserver) {
    this.size = size
    this.#counts = new Uint32Array(size)
    this.#bannedClaims = new Bitfield(size)
    if (observer !== undefined) this.#observers.add(observer)
    this.#observerList = [...this.#observers]
  }

  /**
   * Tells `observer` about every change from now on, after telling it what is already known (one
   * increase per peer and chunk held), so it starts level with the view. Returns the detach function.
   */
  observe (observer: AvailabilityObserver): () => void {
    for (const [peer, field] of this.#peers) {
      for (const index of field.indexes()) observer.availabilityIncreased(index, peer)
    }
    this.#observers.add(observer)
    this.#observerList = [...this.#observers]
    return () => {
      this.#observers.delete(observer)
      this.#observerList = [...this.#observers]
    }
  }

  /** Forgets what `peer` holds and ignores whatever it announces from now on. */
  ban (peer: string): void {
    if (!this.#banned.has(peer)) this.#bannedList = [...this.#bannedList, peer]
    this.#banned.add(peer)
    const field = this.#peers.get(peer)
    if (field !== undefined) this.#noteBannedClaims(field.indexes())
    this.removePeer(peer)
  }

  /**
   * True when a banned peer claimed `index`. Others (a seeder's policy) may count that claim, so a
   * refusal to serve it elsewhere may point at the banned peer.
   */
  claimedByBanned (index: number): boolean {
    return this.#bannedClaims.has(index)
  }

  /** The peers banned in this view, oldest ban first (do not modify). */
  get bannedPeers (): readonly string[] {
    return this.#bannedList
  }

  /** True when `peer` was banned: nothing it claims is counted. */
  isBanned (peer: string): boolean {
    return this.#banned.has(peer)
  }

  knows (peer: string): boolean {
    return this.#peers.has(peer) || this.#banned.has(peer)
  }

  /** Number of known peers holding `index`. */
  count (index: number): number {
    return this.#counts[index] ?? 0
  }

  /** True when `peer` is known to hold `index`. */
  peerHas (peer: string, index: number): boolean {
    return this.#peers.get(peer)?.has(index) ?? false
  }

  /** The peer's bitfield as known (live object: do not modify), or undefined for an unknown peer. */
  bitfield (peer: string): Bitfield | undefined {
    return this.#peers.get(peer)
  }

  /** Known peer ids. */
  peers (): IterableIterator<string> {
    return this.#peers.keys()
  }

  get peerCount (): number {
    return this.#peers.size
  }

  /** Chunks held summed over the known peers (the sum of every count): over peerCount, a peer's mean holdings. */
  get heldTotal (): number {
    return this.#heldTotal
  }

  /** Registers a peer holding nothing yet; no-op for a known or banned peer. */
  addPeer (peer: string): void {
    if (!this.#peers.has(peer) && !this.#banned.has(peer)) this.#peers.set(peer, new Bitfield(this.size))
  }

  /** Replaces what `peer` holds with `bitfield` (a full announcement); ignored for a banned peer. */
  peerBitfield (peer: string, bitfield: Bitfield): void {
    if (bitfield.length !== this.size) throw new RangeError(`bitfield has ${bitfield.length} bits, content has ${this.size} chunks`)
    if (this.#banned.has(peer)) {
      this.#noteBannedClaims(bitfield.indexes())
      return
    }
    const old = this.#peers.get(peer)
    const next = bitfield.clone()
    this.#peers.set(peer, next)
    const a = old?.bytes
    const b = next.bytes
    for (let byte = 0; byte < b.length; byte++) {
      const diff = (a?.[byte] ?? 0) ^ b[byte]!
      if (diff === 0) continue
      for (let bit = 0; bit < 8; bit++) {
        const mask = 0x80 >> bit
        if ((diff & mask) === 0) continue
        const index = byte * 8 + bit
        if ((b[byte]! & mask) !== 0) this.#increase(index, peer)
        else this.#decrease(index, peer)
      }
    }
  }

  /** Records that `peer` now holds `indexes`; returns the ones that were new. Unknown peers are added, banned ones ignored. */
  peerHave (peer: string, indexes: Iterable<number>): number[] {
    if (this.#banned.has(peer)) {
      this.#noteBannedClaims(indexes)
      return []
    }
    let field = this.#peers.get(peer)
    if (field === undefined) {
      field = new Bitfield(this.size)
      this.#peers.set(peer, field)
    }
    const added: number[] = []
    for (const index of indexes) {
      if (index < 0 || index >= this.size || !Number.isInteger(index)) continue
      if (field.set(index)) {
        this.#increase(index, peer)
        added.push(index)
      }
    }
    return added
  }

  /** Records that `peer` does not hold `index` after all (it refused a request). */
  peerLacks (peer: string, index: number): void {
    const field = this.#peers.get(peer)
    if (field !== undefined && index >= 0 && index < this.size && field.clear(index)) this.#decrease(index, peer)
  }

  /** Forgets `peer` and everything it held; returns false for an unknown peer. */
  removePeer (peer: string): boolean {
    const field = this.#peers.get(peer)
    if (field === undefined) return false
    this.#peers.delete(peer)
    for (const index of field.indexes()) this.#decrease(index, peer)
    return true
  }

  #noteBannedClaims (indexes: Iterable<number>): void {
    for (const index of indexes) if (Number.isInteger(index) && index >= 0 && index < this.size) this.#bannedClaims.set(index)
  }

  #increase (index: number, peer: string): void {
    this.#counts[index]!++
    this.#heldTotal++
    const list = this.#observerList
    for (let i = 0; i < list.length; i++) list[i]!.availabilityIncreased(index, peer)
  }

  #decrease (index: number, peer: string): void {
    this.#counts[index]!--
    this.#heldTotal--
    const list = this.#observerList
    for (let i = 0; i < list.length; i++) list[i]!.availabilityDecreased(index, peer)
  }
}
