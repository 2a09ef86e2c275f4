/**
 * Buffers for received chunk bodies, handed back by the consumer once a chunk is written so the next
 * chunk of the same size reuses them.
 *
 * Why: a fresh 256 KiB body per chunk lives across the awaits of verification and the file write,
 * so V8 promotes it to the old generation, and its memory comes back only at the next full GC,
 * which external memory triggers about every 64 MB. A 2 GiB receiver held ~90 MB of such buffers at
 * its peak and spent a third more CPU (full GCs, fresh pages). Giving a buffer back is optional: one
 * that is never released is ordinary garbage.
 */
export class ChunkBufferPool {
  readonly #maxFreeBytes: number
  readonly #free = new Map<number, Uint8Array[]>()
  /** Buffers handed out and not yet given back: only these are taken back, and each only once. */
  readonly #issued = new WeakSet<Uint8Array>()
  #freeBytes = 0

  /** Keeps at most `maxFreeBytes` of released buffers for reuse; 0 disables reuse. */
  constructor (maxFreeBytes: number) {
    this.#maxFreeBytes = maxFreeBytes
  }

  /** Bytes of released buffers waiting to be reused. */
  get freeBytes (): number {
    return this.#freeBytes
  }

  /**
   * A buffer of exactly `length` bytes whose contents are undefined: the caller overwrites every byte
   * before anyone else sees it.
   */
  take (length: number): Uint8Array {
    const reused = this.#free.get(length)?.pop()
    if (reused !== undefined) this.#freeBytes -= length
    // not zero-filled: the body is written in full before it is handed out
    const buf = reused ?? new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length)
    this.#issued.add(buf)
    return buf
  }

  /**
   * Takes back a buffer from take() that its holder no longer references (it will be overwritten).
   * Anything else, or a second release, is ignored.
   */
  release (buf: Uint8Array): void {
    if (!this.#issued.delete(buf)) return
    if (this.#freeBytes + buf.byteLength > this.#maxFreeBytes) return
    let sameSize = this.#free.get(buf.byteLength)
    if (sameSize === undefined) {
      sameSize = []
      this.#free.set(buf.byteLength, sameSize)
    }
    sameSize.push(buf)
    this.#freeBytes += buf.byteLength
  }
}
