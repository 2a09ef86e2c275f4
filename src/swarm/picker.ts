import type { AvailabilityObserver } from './availability.js'
import type { Bitfield } from '../util/bitfield.js'

/**
 * Chooses which chunks to ask a peer for. It is told availability changes (as an AvailabilityObserver)
 * and the fate of every request; it never does I/O.
 */
export interface Picker extends AvailabilityObserver {
  /** Number of chunks in the content. */
  readonly size: number
  /** Chunks not held yet (in flight or not). */
  readonly missing: number
  /** Chunks with at least one request in flight. */
  readonly inFlight: number
  /** Missing chunks, not in flight, held by at least one known peer: what can be picked right now. */
  readonly pickable: number
  /** True when nothing is pickable but chunks are in flight: duplicate requests are allowed. */
  readonly endgame: boolean
  /**
   * Up to `count` chunks `peer` should be asked for, among those `peerHas`; the returned chunks are
   * recorded as requested by `peer`.
   */
  pick(peerHas: Bitfield, count: number, peer: string): number[]
  /** The request of `peer` for `index` ended without the chunk; the chunk is pickable again if nobody else has it in flight. */
  abandon(index: number, peer: string): void
  /** The chunk is held (verified); returns the peers that still had it in flight, whose requests are now useless. */
  markHave(index: number): string[]
  /** True when the chunk is held. */
  has(index: number): boolean
  /** Peers with a request for `index` in flight. */
  requesters(index: number): readonly string[]
  /** Up to `limit` missing chunk indexes, lowest first. */
  missingIndexes(limit: number): number[]
}
