/** One scheduled callback; `pos` is its place in the heap (-1 once popped or removed). */
export interface SimEvent {
  at: number
  seq: number
  pos: number
  fn: () => void
}

/**
 * A binary min-heap of events ordered by time, then by insertion (so equal times run in the order
 * they were scheduled and a run is reproducible). Each event knows its heap position, so cancelling a
 * timer removes it in O(log n) instead of leaving a tombstone: the session cancels almost every
 * request timeout it sets, and tombstones would outnumber live events.
 */
export class EventQueue {
  readonly #heap: SimEvent[] = []
  #seq = 0

  get size (): number {
    return this.#heap.length
  }

  /** Schedules `fn` at time `at`. */
  push (at: number, fn: () => void): SimEvent {
    const ev: SimEvent = { at, seq: this.#seq++, pos: this.#heap.length, fn }
    this.#heap.push(ev)
    this.#up(ev.pos)
    return ev
  }

  /** The earliest event, without removing it. */
  peek (): SimEvent | undefined {
    return this.#heap[0]
  }

  /** Removes and returns the earliest event. */
  pop (): SimEvent | undefined {
    const top = this.#heap[0]
    if (top !== undefined) this.remove(top)
    return top
  }

  /** Removes `ev` if still queued. */
  remove (ev: SimEvent): void {
    const pos = ev.pos
    if (pos < 0 || this.#heap[pos] !== ev) return
    ev.pos = -1
    const last = this.#heap.pop()!
    if (last === ev) return
    this.#heap[pos] = last
    last.pos = pos
    this.#up(pos)
    this.#down(last.pos)
  }

  #less (a: SimEvent, b: SimEvent): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }

  #up (pos: number): void {
    const heap = this.#heap
    const ev = heap[pos]!
    while (pos > 0) {
      const parentPos = (pos - 1) >> 1
      const parent = heap[parentPos]!
      if (!this.#less(ev, parent)) break
      heap[pos] = parent
      parent.pos = pos
      pos = parentPos
    }
    heap[pos] = ev
    ev.pos = pos
  }

  #down (pos: number): void {
    const heap = this.#heap
    const n = heap.length
    const ev = heap[pos]!
    for (;;) {
      const l = 2 * pos + 1
      if (l >= n) break
      const r = l + 1
      const child = r < n && this.#less(heap[r]!, heap[l]!) ? r : l
      if (!this.#less(heap[child]!, ev)) break
      heap[pos] = heap[child]!
      heap[pos]!.pos = pos
      pos = child
    }
    heap[pos] = ev
    ev.pos = pos
  }
}
