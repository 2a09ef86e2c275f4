export interface SeedPolicyInit {
  /** Seed at most this long after the download finished. Default Infinity. */
  seedTimeMs?: number
  /** Stop once uploaded bytes reach this multiple of the content size. Default Infinity. */
  seedRatio?: number
}

export interface SeedState {
  /** Time since the download finished (or seeding started). */
  elapsedMs: number
  uploadedBytes: number
  contentBytes: number
}

/**
 * When a receiver that finished stops seeding: as soon as either limit is reached. Both Infinity
 * (the default) means seed until told to stop; `{ seedTimeMs: 0 }` means leave at once.
 */
export class SeedPolicy {
  readonly seedTimeMs: number
  readonly seedRatio: number

  constructor (init: SeedPolicyInit = {}) {
    this.seedTimeMs = init.seedTimeMs ?? Infinity
    this.seedRatio = init.seedRatio ?? Infinity
    if (!(this.seedTimeMs >= 0) || !(this.seedRatio >= 0)) throw new RangeError('seedTimeMs and seedRatio must be >= 0 (Infinity = no limit)')
  }

  /** True when seeding should stop. */
  shouldStop (state: SeedState): boolean {
    if (state.elapsedMs >= this.seedTimeMs) return true
    const ratio = state.contentBytes > 0 ? state.uploadedBytes / state.contentBytes : Infinity
    return this.seedRatio !== Infinity && ratio >= this.seedRatio
  }

  /** Milliseconds until the time limit ends seeding (Infinity without one); the ratio needs re-checking as uploads happen. */
  remainingMs (elapsedMs: number): number {
    return Math.max(0, this.seedTimeMs - elapsedMs)
  }
}
