import { DEFAULT_SUSPECT_REPORTERS, MAX_EXCLUDED_PER_REQUEST, MAX_REPORTED_PEERS } from './constants.js'

/**
 * What askers said about other peers: a chunk REQUEST names the peers its asker banned (`excluded`),
 * and a peer that at least `threshold` distinct askers named is a suspect. A seeder's policy then
 * stops counting the suspect's claims as copies of a chunk, so it serves the chunk to an honest asker
 * instead of sending it elsewhere (netns bench, 3 of 8 receivers corrupting: every chunk whose first
 * copy went to a corrupter was sent again, as a last resort, to corrupters as often as to honest
 * receivers).
 *
 * Reports are untrusted input: what the policy does with a suspect must never deny it anything
 * (FirstCopyPolicy delays it by the refusal window at most), and a false report costs the seeder
 * extra copies of what the reported peer holds. Bounded: at most MAX_EXCLUDED_PER_REQUEST names per
 * report and MAX_REPORTED_PEERS peers tracked.
 */
export class ClaimReports {
  readonly #threshold: number
  /** Reported peer -> the distinct askers that named it. */
  readonly #reporters = new Map<string, Set<string>>()
  #suspects: string[] = []

  constructor (threshold = DEFAULT_SUSPECT_REPORTERS) {
    this.#threshold = Math.max(1, threshold)
  }

  /** Peers at least `threshold` distinct askers named (a live array: do not modify). */
  get suspects (): readonly string[] {
    return this.#suspects
  }

  /** `reporter` says it banned `peers`; it cannot report itself. */
  report (reporter: string, peers: readonly string[]): void {
    const n = Math.min(peers.length, MAX_EXCLUDED_PER_REQUEST)
    for (let i = 0; i < n; i++) {
      const peer = peers[i]!
      if (peer === reporter) continue
      let reporters = this.#reporters.get(peer)
      if (reporters === undefined) {
        if (this.#reporters.size >= MAX_REPORTED_PEERS) continue
        reporters = new Set()
        this.#reporters.set(peer, reporters)
      }
      if (reporters.has(reporter)) continue
      reporters.add(reporter)
      if (reporters.size === this.#threshold) this.#suspects = [...this.#suspects, peer]
    }
  }

  /** `peer` left: what it reported and what was reported of it are forgotten. */
  removePeer (peer: string): void {
    let changed = this.#reporters.delete(peer)
    for (const [reported, reporters] of this.#reporters) {
      if (!reporters.delete(peer)) continue
      if (reporters.size === 0) this.#reporters.delete(reported)
      changed = true
    }
    if (changed) this.#suspects = [...this.#reporters].filter(([, r]) => r.size >= this.#threshold).map(([p]) => p)
  }
}
