import { DEFAULT_REFUSAL_WINDOW_MS, DEFAULT_SUPER_SEED_GRACE_MS, DEFAULT_SUPER_SEED_REVEAL } from './constants.js'
import { Bitfield } from '../util/bitfield.js'
import type { AvailabilityView } from './availability.js'
import { RefusalWindow } from './refusal-window.js'
import type { AdmitReason } from './first-copy-policy.js'

export interface SuperSeedPolicyInit {
  /** Who holds what in the swarm, from gossip; it must not count the seeder itself. */
  availability: AvailabilityView
  /** Chunks revealed to a peer at a time. Default 2. */
  reveal?: number
  /** After an upload, the chunk is refused to others this long while nobody else holds it yet. */
  graceMs?: number
  /** A peer is sent elsewhere for one chunk at most this long, then served. Default DEFAULT_REFUSAL_WINDOW_MS. */
  refusalWindowMs?: number
  /** Clock in ms, for tests. */
  now?: () => number
  random?: () => number
}

/**
 * Super-seeding for the first seeder, so its uplink carries each chunk about once.
 *
 * The rule:
 * - Reveal: each peer is shown (bitfieldFor) only `reveal` chunks it lacks that were never uploaded,
 *   rarest in the swarm first, each revealed to one peer at a time. Once the peer holds them (or got
 *   them from us) it is shown fresh ones. When every chunk has been uploaded at least once, the full
 *   bitfield is shown.
 * - Admit: the first upload of a chunk is always allowed. A re-upload is refused ('elsewhere') while
 *   another peer holds the chunk (it will serve it) or while the previous copy is within `graceMs`
 *   of being sent (it is about to appear). Otherwise — nobody else holds it, the copy is lost — it
 *   is served again, so the swarm is never starved.
 * - A refusal is a hint, never a denial: a peer is sent elsewhere for a given chunk for at most
 *   `refusalWindowMs` and served it when it asks after that, because the holders counted are unchecked gossip claims (a holder may serve
 *   garbage the asker banned it for, or serve nothing) and a peer still asking then found no
 *   better source (see FirstCopyPolicy, which follows the same rule).
 * Every 'ok' counts as an upload at once, so concurrent asks for a fresh chunk get one copy.
 */
export class SuperSeedPolicy {
  readonly size: number
  readonly #availability: AvailabilityView
  readonly #reveal: number
  readonly #graceMs: number
  readonly #now: () => number
  readonly #random: () => number
  readonly #uploads: Uint32Array
  readonly #lastUploadAt: Float64Array
  readonly #revealedTo = new Map<number, string>()
  readonly #revealed = new Map<string, Set<number>>()
  /** When each peer was first sent elsewhere for each chunk: refusals end on their own. */
  readonly #refused: RefusalWindow
  #uploadedOnce = 0
  #lastReason: AdmitReason = 'fresh'

  constructor (init: SuperSeedPolicyInit) {
    this.#availability = init.availability
    this.size = init.availability.size
    this.#reveal = Math.max(1, init.reveal ?? DEFAULT_SUPER_SEED_REVEAL)
    this.#graceMs = init.graceMs ?? DEFAULT_SUPER_SEED_GRACE_MS
    this.#now = init.now ?? (() => performance.now())
    this.#refused = new RefusalWindow(init.refusalWindowMs ?? DEFAULT_REFUSAL_WINDOW_MS)
    this.#random = init.random ?? Math.random
    this.#uploads = new Uint32Array(this.size)
    this.#lastUploadAt = new Float64Array(this.size)
  }

  /** Why the latest admit answered as it did (for the upload trace). */
  get lastReason (): AdmitReason {
    return this.#lastReason
  }

  /** Times chunk `index` was admitted for upload. */
  uploads (index: number): number {
    return this.#uploads[index] ?? 0
  }

  /** What to advertise to `peer` now. */
  bitfieldFor (peer: string): Bitfield {
    const field = new Bitfield(this.size)
    if (this.#uploadedOnce === this.size) {
      field.setAll()
      return field
    }
    const shown = this.#revealed.get(peer) ?? new Set<number>()
    this.#revealed.set(peer, shown)
    for (const index of [...shown]) {
      if (this.#availability.peerHas(peer, index) || this.#uploads[index]! > 0) this.#unreveal(peer, index)
    }
    if (shown.size < this.#reveal) {
      for (const index of this.#rarestFresh(peer, this.#reveal - shown.size)) {
        shown.add(index)
        this.#revealedTo.set(index, peer)
      }
    }
    for (const index of shown) field.set(index)
    return field
  }

  /**
   * Whether to upload chunk `index` to `peer` now; 'ok' is counted as an upload. A peer that says it
   * has no other source (`lastResort`) is served: the holders counted here are claims it has checked.
   */
  admit (peer: string, index: number, lastResort = false): 'ok' | 'elsewhere' {
    if (index < 0 || index >= this.size) return 'elsewhere'
    const now = this.#now()
    if (this.#uploads[index]! > 0) {
      const covered = this.#availability.count(index) > 0 || now - this.#lastUploadAt[index]! < this.#graceMs
      if (lastResort) this.#lastReason = 'last-resort'
      else if (!covered) this.#lastReason = 'uncovered'
      else if (this.#refused.refuse(peer, index, now)) {
        this.#lastReason = 'refused'
        return 'elsewhere'
      } else this.#lastReason = 'window-over'
    } else {
      this.#uploadedOnce++
      this.#lastReason = 'fresh'
    }
    this.#uploads[index]!++
    this.#lastUploadAt[index] = now
    const owner = this.#revealedTo.get(index)
    if (owner !== undefined) this.#unreveal(owner, index)
    return 'ok'
  }

  /** Chunk `index` left the uplink: its grace runs from now, not from its admission (it may have waited in a queue). */
  sent (index: number): void {
    if (index >= 0 && index < this.size && this.#uploads[index]! > 0) this.#lastUploadAt[index] = this.#now()
  }

  /** Forgets what was revealed to a peer that left, so its chunks go to others. */
  removePeer (peer: string): void {
    for (const index of this.#revealed.get(peer) ?? []) this.#revealedTo.delete(index)
    this.#revealed.delete(peer)
    this.#refused.removePeer(peer)
  }

  #unreveal (peer: string, index: number): void {
    this.#revealed.get(peer)?.delete(index)
    if (this.#revealedTo.get(index) === peer) this.#revealedTo.delete(index)
  }

  /** Up to `count` never-uploaded chunks `peer` lacks: unrevealed ones first, then rarest, ties at random. */
  #rarestFresh (peer: string, count: number): number[] {
    const candidates: Array<{ index: number, key: number }> = []
    const start = Math.floor(this.#random() * this.size)
    for (let k = 0; k < this.size; k++) {
      const index = (start + k) % this.size
      if (this.#uploads[index]! > 0 || this.#availability.peerHas(peer, index)) continue
      const taken = this.#revealedTo.has(index) ? this.size + 1 : 0
      candidates.push({ index, key: taken + this.#availability.count(index) })
    }
    candidates.sort((a, b) => a.key - b.key)
    return candidates.slice(0, count).map(c => c.index)
  }
}
