import { setImmediate as yieldToMicrotasks } from 'node:timers/promises'
import { EventQueue } from './event-queue.js'
import type { SimEvent } from './event-queue.js'
import type { Clock, TimerHandle } from '../src/swarm/clock.js'

export interface RunLimits {
  /** Stop once virtual time passes this (ms). */
  untilMs?: number
  /** Stop when this returns true (checked after each time step). */
  done?: () => boolean
}

/**
 * Simulated time for the swarm layer: timers go into an event queue and time jumps from one event to
 * the next. No real timer is ever set, so a 60 s swarm runs as fast as its events can be processed.
 */
export class VirtualClock implements Clock {
  readonly #queue = new EventQueue()
  readonly #resolutionMs: number
  #now = 0
  /** Events run so far. */
  events = 0
  /** Distinct instants at which events ran (each costs one trip through the real event loop). */
  steps = 0

  /**
   * `resolutionMs` > 0 rounds every event's time up to that grid, so events a few microseconds apart
   * share one instant: each instant costs a trip through the real event loop, and a session handles
   * all of one instant's news in one scheduler pass (10,000 peers: ~30 M events at ~20 M distinct
   * instants exactly, a few hundred thousand at 1 ms). Never earlier than asked, so causes still
   * precede their effects.
   */
  constructor (init: { resolutionMs?: number } = {}) {
    this.#resolutionMs = Math.max(0, init.resolutionMs ?? 0)
  }

  now (): number {
    return this.#now
  }

  setTimeout (fn: () => void, ms: number): TimerHandle {
    return this.#queue.push(this.#round(this.#now + Math.max(0, ms)), fn)
  }

  clearTimeout (handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.#queue.remove(handle as SimEvent)
  }

  /** Schedules `fn` at absolute virtual time `at` (ms). */
  at (at: number, fn: () => void): TimerHandle {
    return this.#queue.push(this.#round(Math.max(this.#now, at)), fn)
  }

  #round (at: number): number {
    const r = this.#resolutionMs
    return r > 0 ? Math.ceil(at / r) * r : at
  }

  /** Events waiting. */
  get pending (): number {
    return this.#queue.size
  }

  /**
   * Runs events in time order until none is left or a limit is reached. After all events of one
   * instant ran, the real event loop is given a turn so every promise continuation they caused (the
   * session is async) runs at that same virtual instant, before time moves on.
   */
  async run (limits: RunLimits = {}): Promise<void> {
    const until = limits.untilMs ?? Infinity
    await yieldToMicrotasks()
    for (;;) {
      const next = this.#queue.peek()
      if (next === undefined || next.at > until) break
      this.#now = next.at
      this.steps++
      while (this.#queue.peek()?.at === this.#now) {
        const ev = this.#queue.pop()!
        this.events++
        ev.fn()
      }
      await yieldToMicrotasks()
      if (limits.done?.() === true) break
    }
  }
}
