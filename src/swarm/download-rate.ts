/**
 * A download's rate, bytes/s, as an exponentially decaying sum of what arrived: each delivery adds
 * its bytes, and the sum decays with time constant `windowMs`. At a steady rate it reads that rate;
 * after a stop it falls to 0 within a few windows, so it never holds a stale figure. No timers.
 */
export class DownloadRate {
  readonly #windowMs: number
  #value = 0
  #at = 0

  constructor (windowMs: number) {
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`)
    this.#windowMs = windowMs
  }

  /** `bytes` arrived at `now` (ms). */
  add (bytes: number, now: number): void {
    this.#value = this.at(now) + bytes * 1000 / this.#windowMs
    this.#at = Math.max(this.#at, now)
  }

  /** The rate at `now` (ms), bytes/s. */
  at (now: number): number {
    const elapsed = now - this.#at
    return elapsed <= 0 ? this.#value : this.#value * Math.exp(-elapsed / this.#windowMs)
  }
}
