/**
 * How long a seeder may keep sending one peer elsewhere for one chunk: from the first refusal of
 * chunk i to peer A, A is refused i for `windowMs`; its first ask after that is served, and the
 * record starts over. The holders that justify a refusal are unchecked gossip claims, so a refusal
 * must end on its own: a peer still asking after the window found no better source.
 */
export class RefusalWindow {
  readonly #windowMs: number
  /** Per peer, chunk -> when it was first refused it. */
  readonly #since = new Map<string, Map<number, number>>()

  constructor (windowMs: number) {
    this.#windowMs = Math.max(0, windowMs)
  }

  /** True when `peer` may be refused `index` at `now` (the first refusal starts its window). */
  refuse (peer: string, index: number, now: number): boolean {
    let since = this.#since.get(peer)
    if (since === undefined) {
      since = new Map()
      this.#since.set(peer, since)
    }
    const first = since.get(index)
    if (first === undefined) {
      since.set(index, now)
      return true
    }
    if (now - first < this.#windowMs) return true
    since.delete(index)
    if (since.size === 0) this.#since.delete(peer)
    return false
  }

  /** Forgets `peer` (it left). */
  removePeer (peer: string): void {
    this.#since.delete(peer)
  }
}
