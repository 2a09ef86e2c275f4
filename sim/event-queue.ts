/** One scheduled callback; `queued` is false once it ran or was removed. */
export interface SimEvent {
  at: number
  fn: () => void
  queued: boolean
  instant: Instant
}

/** The events of one time, in the order they were scheduled; `next` is the first not yet popped. */
interface Instant {
  at: number
  events: SimEvent[]
  next: number
  /** Events of `events` still queued. */
  live: number
  /** Place in the heap; -1 once dropped (nothing left to run): a push at this time starts a new one. */
  pos: number
}

const NOOP = (): void => {}

/**
 * Events ordered by time, then by insertion (so equal times run in the order they were scheduled and
 * a run is reproducible). On the simulator's 1 ms grid dozens of events share a time, so the queue
 * keeps one list per distinct time and a binary min-heap of those times only: scheduling at a time
 * already waiting is an append, and the heap is as deep as the distinct times, not the event count
 * (a heap of events was a tenth of a 1,000-peer run). A removed event stays in its list as a
 * tombstone without its callback and is skipped; a time whose events were all removed leaves the
 * heap at once, and a list that is mostly tombstones is compacted. The session cancels almost every
 * request timeout it sets, 15-30 s ahead: those must not linger until their time.
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
    if (inst === undefined || inst.at !== at || inst.pos < 0) {
      inst = this.#byTime.get(at)
      if (inst === undefined) {
        inst = { at, events: [], next: 0, live: 0, pos: this.#heap.length }
        this.#byTime.set(at, inst)
        this.#heap.push(inst)
        this.#up(inst.pos)
      }
      this.#last = inst
    }
    const ev: SimEvent = { at, fn, queued: true, instant: inst }
    inst.events.push(ev)
    inst.live++
    this.#size++
    return ev
  }

  /** The earliest event, without removing it. */
  peek (): SimEvent | undefined {
    const inst = this.#heap[0]
    if (inst === undefined) return undefined
    this.#skipRemoved(inst)
    return inst.events[inst.next]
  }

  /** Removes and returns the earliest event. */
  pop (): SimEvent | undefined {
    const inst = this.#heap[0]
    if (inst === undefined) return undefined
    this.#skipRemoved(inst)
    const ev = inst.events[inst.next++]!
    ev.queued = false
    this.#size--
    if (--inst.live === 0) this.#drop(inst)
    return ev
  }

  /** Removes `ev` if still queued. */
  remove (ev: SimEvent): void {
    if (!ev.queued) return
    ev.queued = false
    ev.fn = NOOP
    this.#size--
    const inst = ev.instant
    if (--inst.live === 0) {
      this.#drop(inst)
      return
    }
    const dead = inst.events.length - inst.next - inst.live
    if (dead > 64 && dead > inst.live) {
      inst.events = inst.events.filter((e, i) => i >= inst.next && e.queued)
      inst.next = 0
    }
  }

  /** Moves `next` past removed events (every instant in the heap has a queued one). */
  #skipRemoved (inst: Instant): void {
    const events = inst.events
    while (!events[inst.next]!.queued) inst.next++
  }

  #drop (inst: Instant): void {
    const heap = this.#heap
    const pos = inst.pos
    inst.pos = -1
    this.#byTime.delete(inst.at)
    const last = heap.pop()!
    if (last === inst) return
    heap[pos] = last
    last.pos = pos
    this.#up(pos)
    this.#down(last.pos)
  }

  #up (pos: number): void {
    const heap = this.#heap
    const inst = heap[pos]!
    while (pos > 0) {
      const parentPos = (pos - 1) >> 1
      const parent = heap[parentPos]!
      if (parent.at <= inst.at) break
      heap[pos] = parent
      parent.pos = pos
      pos = parentPos
    }
    heap[pos] = inst
    inst.pos = pos
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
      const c = heap[child]!
      if (c.at >= inst.at) break
      heap[pos] = c
      c.pos = pos
      pos = child
    }
    heap[pos] = inst
    inst.pos = pos
  }
}
