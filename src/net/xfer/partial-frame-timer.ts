/**
 * Fails a stream whose peer started a frame and never finished it. Both ends of an xfer stream arm
 * it after every read: running while a frame is partial, stopped as soon as none is.
 */
export class PartialFrameTimer {
  readonly #timeoutMs: number
  readonly #onTimeout: () => void
  #timer?: ReturnType<typeof setTimeout>

  constructor (timeoutMs: number, onTimeout: () => void) {
    this.#timeoutMs = timeoutMs
    this.#onTimeout = onTimeout
  }

  /** Starts the clock when a frame is partial (and it is not already running), stops it otherwise. */
  update (hasPartialFrame: boolean): void {
    if (!hasPartialFrame) {
      this.clear()
      return
    }
    if (this.#timer !== undefined) return
    this.#timer = setTimeout(this.#onTimeout, this.#timeoutMs)
    this.#timer.unref?.()
  }

  clear (): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
