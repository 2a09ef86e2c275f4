/**
 * What readers of one content (the HTTP data plane, `shoal cat`, the registry mirror) want from its
 * download: chunks to fetch before the rest, and a wake-up whenever a chunk is written or the
 * content's phase changes. The download attaches its swarm session while one runs; chunks asked for
 * before that are handed over when it attaches.
 */
export class ReadInterest {
  readonly #wanted = new Set<number>()
  readonly #listeners = new Set<() => void>()
  #forward?: (indexes: number[]) => void

  /** Asks for `indexes` first, in this order. */
  want (indexes: number[]): void {
    if (indexes.length === 0) return
    for (const index of indexes) this.#wanted.add(index)
    this.#forward?.(indexes)
  }

  /** A running download takes the wanted chunks (those asked so far at once); returns its detach. */
  attach (forward: (indexes: number[]) => void): () => void {
    this.#forward = forward
    if (this.#wanted.size > 0) forward([...this.#wanted])
    return () => {
      if (this.#forward === forward) this.#forward = undefined
    }
  }

  /** Something a reader may wait for happened: a chunk became readable, the phase moved. */
  notify (): void {
    for (const listener of this.#listeners) listener()
  }

  /** Calls `listener` on every notify() until the returned function is called. */
  listen (listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }
}
