import { DEFAULT_FIRST_COPY_GRACE_MS, DEFAULT_FIRST_COPY_SPREAD } from './constants.js'
import type { AvailabilityView } from './availability.js'

export interface FirstCopyPolicyInit {
  /** Who holds what in the swarm, from gossip; it must not count the seeder itself. */
  availability: AvailabilityView
  /** A re-upload is refused this long after the previous one even if nobody holds the chunk yet (it is on its way). */
  graceMs?: number
  /** Once every chunk went out, a chunk this many other peers hold is left to them. Default 2. */
  spreadCopies?: number
  /** Clock in ms, for tests. */
  now?: () => number
}

/**
 * The plain seeder's upload rule, a light form of super-seeding that hides nothing: while some chunk
 * has never been uploaded, a chunk that was already uploaded (or is being uploaded) is refused, so
 * the seeder's uplink carries fresh chunks and the swarm trades the rest. Without it, receivers that
 * cannot see each other's requests in flight ask the seeder for the same rare chunk, and the seeder
 * sent the file about twice. A chunk whose only copy is gone (nobody else is known to hold it and its
 * last upload began more than `graceMs` ago) is served again, so nothing starves. Once every chunk
 * went out, only chunks fewer than `spreadCopies` other peers hold are served (the seeder's extra
 * copies went mostly to chunks the swarm already had).
 */
export class FirstCopyPolicy {
  readonly size: number
  readonly #availability: AvailabilityView
  readonly #graceMs: number
  readonly #spreadCopies: number
  readonly #now: () => number
  readonly #uploads: Uint32Array
  readonly #lastUploadAt: Float64Array
  readonly #lastPeer: Array<string | undefined>
  #fresh: number

  constructor (init: FirstCopyPolicyInit) {
    this.#availability = init.availability
    this.size = init.availability.size
    this.#graceMs = init.graceMs ?? DEFAULT_FIRST_COPY_GRACE_MS
    this.#spreadCopies = Math.max(1, init.spreadCopies ?? DEFAULT_FIRST_COPY_SPREAD)
    this.#now = init.now ?? (() => performance.now())
    this.#uploads = new Uint32Array(this.size)
    this.#lastUploadAt = new Float64Array(this.size)
    this.#lastPeer = new Array<string | undefined>(this.size)
    this.#fresh = this.size
  }

  /** Chunks never uploaded yet. */
  get fresh (): number {
    return this.#fresh
  }

  /** Times chunk `index` was admitted for upload. */
  uploads (index: number): number {
    return this.#uploads[index] ?? 0
  }

  /**
   * Whether to upload chunk `index` to `peer` now; 'ok' is counted as an upload at once. The peer
   * that got the previous copy may always ask again: it evidently did not receive it.
   */
  admit (peer: string, index: number): 'ok' | 'elsewhere' {
    if (index < 0 || index >= this.size) return 'ok'
    const uploads = this.#uploads[index]!
    const now = this.#now()
    if (uploads > 0 && this.#lastPeer[index] !== peer) {
      const holders = this.#availability.count(index)
      if (this.#fresh > 0) {
        if (holders > 0 || now - this.#lastUploadAt[index]! < this.#graceMs) return 'elsewhere'
      } else if (holders >= this.#spreadCopies) {
        // Every chunk went out once: the seeder now only helps with chunks that are still scarce.
        return 'elsewhere'
      }
    }
    if (uploads === 0) this.#fresh--
    this.#uploads[index] = uploads + 1
    this.#lastUploadAt[index] = now
    this.#lastPeer[index] = peer
    return 'ok'
  }
}
