import { DEFAULT_BUSY_UPLINK_BACKLOG, DEFAULT_BUSY_UPLINK_HOLDERS, DEFAULT_REFUSAL_WINDOW_MS } from './constants.js'
import { RefusalWindow } from './refusal-window.js'
import type { AvailabilityView } from './availability.js'

export interface BusyUplinkPolicyInit {
  /** Who holds what in the swarm, from gossip; it must not count this node itself. */
  availability: AvailabilityView
  /** Uploads admitted and not yet sent from which the uplink counts as busy. Default DEFAULT_BUSY_UPLINK_BACKLOG. */
  backlog?: number
  /** A chunk at least this many other peers hold is sent elsewhere while busy. Default DEFAULT_BUSY_UPLINK_HOLDERS. */
  holders?: number
  /** A peer is sent elsewhere for one chunk at most this long, then served. Default DEFAULT_REFUSAL_WINDOW_MS. */
  refusalWindowMs?: number
  /**
   * First seeders known to this node: their copies do not count, since a first seeder refuses a
   * chunk others hold (FirstCopyPolicy) and the requester would bounce between the two.
   */
  origins?: () => Iterable<string>
  /** Clock in ms, for tests. */
  now?: () => number
}

/**
 * Any holder's upload rule (not only a seeder's): while its uplink has a queue, a request for a chunk
 * that other peers hold is sent elsewhere ('elsewhere'), so requests for a chunk spread over its
 * holders instead of queueing behind one uplink while the others idle. Rarest-first sends every
 * requester to the first holders of a new chunk; their FIFO uplinks then served it one copy at a
 * time while the copies already made sat unused. A refusal is a hint within a RefusalWindow, as for
 * the seeder policies: the holders counted are unchecked gossip claims, so a peer still asking after
 * the window is served.
 */
export class BusyUplinkPolicy {
  readonly #availability: AvailabilityView
  readonly #backlog: number
  readonly #holders: number
  readonly #now: () => number
  readonly #refused: RefusalWindow
  readonly #origins: () => Iterable<string>

  constructor (init: BusyUplinkPolicyInit) {
    this.#availability = init.availability
    this.#backlog = init.backlog ?? DEFAULT_BUSY_UPLINK_BACKLOG
    this.#holders = Math.max(1, init.holders ?? DEFAULT_BUSY_UPLINK_HOLDERS)
    this.#now = init.now ?? (() => performance.now())
    this.#refused = new RefusalWindow(init.refusalWindowMs ?? DEFAULT_REFUSAL_WINDOW_MS)
    this.#origins = init.origins ?? (() => [])
  }

  /** Whether to serve chunk `index` to `peer` with `backlog` uploads admitted and not yet sent. */
  admit (peer: string, index: number, backlog: number): 'ok' | 'elsewhere' {
    if (backlog < this.#backlog || this.#holdersOf(index) < this.#holders) return 'ok'
    return this.#refused.refuse(peer, index, this.#now()) ? 'elsewhere' : 'ok'
  }

  #holdersOf (index: number): number {
    let holders = this.#availability.count(index)
    if (holders < this.#holders) return holders
    for (const origin of this.#origins()) if (this.#availability.peerHas(origin, index)) holders--
    return holders
  }

  /** Forgets what `peer` was refused (it left). */
  removePeer (peer: string): void {
    this.#refused.removePeer(peer)
  }
}
