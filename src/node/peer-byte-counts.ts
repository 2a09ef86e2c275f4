/**
 * Bytes per peer, bounded: the `limit` largest counts are kept by peer and the rest summed in
 * `others`, so a swarm of thousands (or a peer churning identities) costs a fixed amount of memory.
 */
export class PeerByteCounts {
  readonly #limit: number
  readonly #bytes = new Map<string, number>()
  /** Bytes of peers no longer tracked one by one. */
  others = 0

  constructor (limit: number) {
    this.#limit = limit
  }

  add (peer: string, bytes: number): void {
    const prior = this.#bytes.get(peer)
    if (prior !== undefined) {
      this.#bytes.set(peer, prior + bytes)
      return
    }
    if (this.#bytes.size >= this.#limit) {
      // O(limit) per new peer once full; new peers are rare next to chunks
      let smallest = ''
      let least = Infinity
      for (const [p, b] of this.#bytes) if (b < least) { least = b; smallest = p }
      if (least > bytes) {
        this.others += bytes
        return
      }
      this.#bytes.delete(smallest)
      this.others += least
    }
    this.#bytes.set(peer, bytes)
  }

  get (peer: string): number {
    return this.#bytes.get(peer) ?? 0
  }

  /** Tracked peers, largest first. */
  entries (): Array<[string, number]> {
    return [...this.#bytes].sort((a, b) => b[1] - a[1])
  }
}
