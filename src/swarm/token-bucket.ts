import { realClock } from './clock.js'
import { AbortedError } from './errors.js'
import type { Clock, TimerHandle } from './clock.js'

export interface TokenBucketInit {
  /** Bytes per second. 0 or Infinity (or anything not a positive finite number) means unlimited. */
  rate: number
  /** Bytes that may be taken at once after an idle spell. Default: one second's worth of `rate`. */
  burst?: number
  /** Time and timers. Default realClock. */
  clock?: Clock
}

interface Waiter {
  bytes: number
  resolve: () => void
  reject: (err: Error) => void
  signal?: AbortSignal
  onAbort?: () => void
}

/**
 * A token bucket rate limiter shared by every transfer in one direction. Waiters are served strictly
 * in arrival order (FIFO), so a large request is not starved by a stream of small ones. A request
 * larger than the burst is allowed once the bucket holds `burst` tokens and drives it into debt,
 * which later takers repay: the long-run rate stays exact. Rate 0 means unlimited, as in most
 * clients' settings, so "no limit" needs no special value on the command line.
 */
export class TokenBucket {
  #rate = Infinity
  #burst = Infinity
  #tokens = 0
  #started = false
  readonly #clock: Clock
  #last: number
  readonly #queue: Waiter[] = []
  #timer?: TimerHandle

  constructor (init: TokenBucketInit) {
    this.#clock = init.clock ?? realClock
    this.#last = this.#clock.now()
    this.setRate(init.rate, init.burst)
  }

  /** True when no limit applies. */
  get unlimited (): boolean {
    return this.#rate === Infinity
  }

  /** Bytes per second (Infinity when unlimited). */
  get rate (): number {
    return this.#rate
  }

  /** Waiters queued. */
  get waiting (): number {
    return this.#queue.length
  }

  /** Changes the limit; queued waiters are re-timed. */
  setRate (rate: number, burst?: number): void {
    this.#refill()
    this.#rate = Number.isFinite(rate) && rate > 0 ? rate : Infinity
    this.#burst = this.#rate === Infinity ? Infinity : Math.max(1, burst ?? this.#rate)
    // A new bucket starts full, as after an idle spell.
    this.#tokens = this.#rate === Infinity ? 0 : Math.min(this.#started ? this.#tokens : this.#burst, this.#burst)
    this.#started = true
    this.#drain()
  }

  /** Waits until `bytes` may pass, in FIFO order with other takers. */
  async take (bytes: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = options.signal
    if (signal?.aborted === true) throw new AbortedError('rate limiter wait aborted')
    if (this.#rate === Infinity || bytes <= 0) return
    this.#refill()
    if (this.#queue.length === 0 && this.#tokens >= Math.min(bytes, this.#burst)) {
      this.#tokens -= bytes
      return
    }
    let resolve!: () => void
    let reject!: (err: Error) => void
    const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
    const waiter: Waiter = { bytes, resolve, reject, signal }
    if (signal !== undefined) {
      waiter.onAbort = () => {
        const at = this.#queue.indexOf(waiter)
        if (at === -1) return
        this.#queue.splice(at, 1)
        reject(new AbortedError('rate limiter wait aborted'))
        if (at === 0) this.#drain()
      }
      signal.addEventListener('abort', waiter.onAbort, { once: true })
    }
    this.#queue.push(waiter)
    if (this.#queue.length === 1) this.#drain()
    return promise
  }

  #refill (): void {
    const now = this.#clock.now()
    if (this.#rate !== Infinity) this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) * this.#rate / 1000)
    this.#last = now
  }

  #drain (): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer)
      this.#timer = undefined
    }
    this.#refill()
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!
      if (this.#rate !== Infinity && this.#tokens < Math.min(head.bytes, this.#burst)) break
      this.#queue.shift()
      if (this.#rate !== Infinity) this.#tokens -= head.bytes
      if (head.onAbort !== undefined) head.signal?.removeEventListener('abort', head.onAbort)
      head.resolve()
    }
    if (this.#queue.length === 0) return
    const need = Math.min(this.#queue[0]!.bytes, this.#burst) - this.#tokens
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined
      this.#drain()
    }, Math.max(1, Math.ceil(need * 1000 / this.#rate)))
  }
}
