import { RATE_WINDOW_MS } from './constants.js'

/** Bytes per second over a sliding window, kept as per-second buckets (no timers). */
export class RateMeter {
  readonly #windowS: number
  readonly #buckets: Float64Array
  #second = 0
  total = 0

  constructor (windowMs = RATE_WINDOW_MS) {
    this.#windowS = Math.max(1, Math.round(windowMs / 1000))
    this.#buckets = new Float64Array(this.#windowS)
  }

  add (bytes: number, now = Date.now()): void {
    this.#advance(Math.floor(now / 1000))
    this.#buckets[this.#second % this.#windowS]! += bytes
    this.total += bytes
  }

  /** Average over the last full window. */
  rate (now = Date.now()): number {
    this.#advance(Math.floor(now / 1000))
    let sum = 0
    for (const b of this.#buckets) sum += b
    return sum / this.#windowS
  }

  #advance (second: number): void {
    if (this.#second === 0) this.#second = second
    const steps = Math.min(second - this.#second, this.#windowS)
    for (let i = 1; i <= steps; i++) this.#buckets[(this.#second + i) % this.#windowS] = 0
    if (second > this.#second) this.#second = second
  }
}
