/** An opaque timer handle, only ever given back to the clock that made it. */
export type TimerHandle = unknown

/**
 * Time and timers as the swarm layer sees them. Production uses `realClock`; a simulator passes a
 * virtual clock so thousands of sessions run on simulated time in one process without real waits.
 */
export interface Clock {
  /** Milliseconds on a monotonic clock (only differences matter). */
  now(): number
  /** Calls `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle
  /** Cancels a timer made by this clock's setTimeout; undefined is ignored. */
  clearTimeout(handle: TimerHandle | undefined): void
}

/** The process's own clock: performance.now and the global timers. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: handle => { clearTimeout(handle as ReturnType<typeof setTimeout> | undefined) }
}
