import { Bitfield } from '../util/bitfield.js'

/** Told about every change of a chunk's availability count (the picker keeps its buckets with it). */
export interface AvailabilityObserver {
  availabilityIncreased(index: number): void
  availabilityDecreased(index: number): void
}

/** Read-only view of who holds what, as policies need it. */
export interface AvailabilityView {
  readonly size: number
  /** Number of known peers holding `index`. */
  count(index: number): number
  /** True when `peer` is known to hold `index`. */
  peerHas(peer: string, index: number): boolean
}

/**
 * Who holds which chunk of one content, from bitfields and HAVE announcements: a bitfield per peer and
 * a count per chunk. Every change is passed on to the observer.
 */
export class Availability implements AvailabilityView {
  readonly size: number
  readonly #counts: Uint32Array
  readonly #peers = new Map<string, Bitfield>()
  readonly #observer?: AvailabilityObserver

  constructor (size: number, observer?: AvailabilityObserver) {
    this.size = size
    this.#counts = new Uint32Array(size)
    this.#observer = observer
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

  /** Registers a peer holding nothing yet; no-op for a known peer. */
  addPeer (peer: string): void {
    if (!this.#peers.has(peer)) this.#peers.set(peer, new Bitfield(this.size))
  }

  /** Replaces what `peer` holds with `bitfield` (a full announcement). */
  peerBitfield (peer: string, bitfield: Bitfield): void {
    if (bitfield.length !== this.size) throw new RangeError(`bitfield has ${bitfield.length} bits, content has ${this.size} chunks`)
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
        if ((b[byte]! & mask) !== 0) this.#increase(index)
        else this.#decrease(index)
      }
    }
  }

  /** Records that `peer` now holds `indexes`; returns the ones that were new. Unknown peers are added. */
  peerHave (peer: string, indexes: Iterable<number>): number[] {
    this.addPeer(peer)
    const field = this.#peers.get(peer)!
    const added: number[] = []
    for (const index of indexes) {
      if (index < 0 || index >= this.size || !Number.isInteger(index)) continue
      if (field.set(index)) {
        this.#increase(index)
        added.push(index)
      }
    }
    return added
  }

  /** Records that `peer` does not hold `index` after all (it refused a request). */
  peerLacks (peer: string, index: number): void {
    const field = this.#peers.get(peer)
    if (field !== undefined && index >= 0 && index < this.size && field.clear(index)) this.#decrease(index)
  }

  /** Forgets `peer` and everything it held; returns false for an unknown peer. */
  removePeer (peer: string): boolean {
    const field = this.#peers.get(peer)
    if (field === undefined) return false
    this.#peers.delete(peer)
    for (const index of field.indexes()) this.#decrease(index)
    return true
  }

  #increase (index: number): void {
    this.#counts[index]!++
    this.#observer?.availabilityIncreased(index)
  }

  #decrease (index: number): void {
    this.#counts[index]!--
    this.#observer?.availabilityDecreased(index)
  }
}
