/**
 * Who is reading a content right now (an HTTP read, a registry pull) and when it was last used.
 * The cache never evicts a leased content; last use orders eviction. In memory only: a lease
 * lives as long as the request that took it.
 */
export class ContentLeases {
  readonly #counts = new Map<string, number>()
  readonly #lastUsed = new Map<string, number>()

  /** Marks `cid` in use until the returned release is called (calling it again does nothing). */
  acquire (cid: string): () => void {
    this.#counts.set(cid, (this.#counts.get(cid) ?? 0) + 1)
    this.touch(cid)
    let released = false
    return () => {
      if (released) return
      released = true
      this.touch(cid)
      const left = (this.#counts.get(cid) ?? 1) - 1
      if (left <= 0) this.#counts.delete(cid)
      else this.#counts.set(cid, left)
    }
  }

  /** True while at least one lease on `cid` is held. */
  inUse (cid: string): boolean {
    return this.#counts.has(cid)
  }

  /** Records a use of `cid` now (a read, a fetch, a local user touching it). */
  touch (cid: string, at = Date.now()): void {
    this.#lastUsed.set(cid, at)
  }

  /** When `cid` was last used in this run (ms since the epoch), if it was. */
  lastUsed (cid: string): number | undefined {
    return this.#lastUsed.get(cid)
  }
}
