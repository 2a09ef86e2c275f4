/** One scheduled callback; `queued` is false once it ran or was removed. */
export interface SimEvent {
  at: number
  fn: () => void
  queued: boolean
}

/** The events of one time, in the order they were scheduled; `next` is the first not yet popped. */
interface Instant {
  at: number
  events: SimEvent[]
  next: number
  /** Dropped from the queue (all its events ran or were removed): a push at this time starts a new one. */
  gone: boolean
}

const NOOP = (): void => {}

/**
 * Events ordered by time, then by insertion (so equal times run in the order they were scheduled and
 * a run is reproducible). On the simulator's 1 ms grid dozens of events share a time, so the queue
 * keeps one list per distinct time and a binary min-heap of those times only: scheduling at a time
 * already waiting is an append, and the heap stays a few hundred entries deep instead of the whole
 * event count (a heap of events was a tenth of a 1,000-peer run). A removed event stays in its list
 * as a tombstone without its callback (the session cancels almost every request timeout it sets, so
 * closures must not wait there) and is skipped when its time comes.
 */
export class EventQueue {
  /** Instants by time, min-heap on `at`. */
  readonly #heap: Instant[] = []
  readonly #byTime = new Map<number, Instant>()
  /** The instant of the last push: most pushes of one step go to the same few times. */
  #last: Instant | undefined
  #size = 0

  get size (): number {
    return this.#size
  }

  /** Schedules `fn` at time `at`. */
  push (at: number, fn: () => void): SimEvent {
    let inst = this.#last
    if (inst === undefined || inst.at !== at || inst.gone) {
      inst = this.#byTime.get(at)
      if (inst === undefined) {
        inst = { at, events: [], next: 0, gone: false }
        this.#byTime.set(at, inst)
        this.#up(this.#heap.push(inst) - 1)
      }
      this.#last = inst
    }
    const ev: SimEvent = { at, fn, queued: true }
    inst.events.push(ev)
    this.#size++
    return ev
  }

  /** The earliest event, without removing it. */
  peek (): SimEvent | undefined {
    const inst = this.#top()
    return inst?.events[inst.next]
  }

  /** Removes and returns the earliest event. */
  pop (): SimEvent | undefined {
    const inst = this.#top()
    if (inst === undefined) return undefined
    const ev = inst.events[inst.next++]!
    ev.queued = false
    this.#size--
    return ev
  }

  /** Removes `ev` if still queued. */
  remove (ev: SimEvent): void {
    if (!ev.queued) return
    ev.queued = false
    ev.fn = NOOP
    this.#size--
  }

  /** The earliest instant with an event still queued; exhausted instants are dropped on the way. */
  #top (): Instant | undefined {
    const heap = this.#heap
    for (;;) {
      const inst = heap[0]
      if (inst === undefined) return undefined
      const events = inst.events
      while (inst.next < events.length && !events[inst.next]!.queued) inst.next++
      if (inst.next < events.length) return inst
      inst.gone = true
      this.#byTime.delete(inst.at)
      const last = heap.pop()!
      if (heap.length > 0) {
        heap[0] = last
        this.#down(0)
      }
    }
  }

  #up (pos: number): void {
    const heap = this.#heap
    const inst = heap[pos]!
    while (pos > 0) {
      const parentPos = (pos - 1) >> 1
      const parent = heap[parentPos]!
      if (parent.at <= inst.at) break
      heap[pos] = parent
      pos = parentPos
    }
    heap[pos] = inst
  }

  #down (pos: number): void {
    const heap = this.#heap
    const n = heap.length
    const inst = heap[pos]!
    for (;;) {
      const l = 2 * pos + 1
      if (l >= n) break
      const r = l + 1
      const child = r < n && heap[r]!.at < heap[l]!.at ? r : l
      if (heap[child]!.at >= inst.at) break
      heap[pos] = heap[child]!
      pos = child
    }
    heap[pos] = inst
  }
}
