/** Limits the flood guard applies, already resolved against the defaults in constants.ts. */
export interface FloodGuardOptions {
  maxStreamsPerPeer: number
  strikes: number
  refusalMs: number
  maxTracked: number
}

interface PeerRecord {
  strikes: number
  /** Epoch ms until which the peer's new streams are refused; 0 while it is only being counted. */
  refusedUntil: number
}

/**
 * Per-peer bookkeeping of inbound xfer abuse: how many streams a peer may hold, how many of its
 * streams were reset for flooding, and whether its new streams are refused for now. No I/O; the
 * record is capped at maxTracked peers (oldest forgotten first) so a crowd of peer ids cannot grow it.
 */
export class FloodGuard {
  readonly #options: FloodGuardOptions
  readonly #peers = new Map<string, PeerRecord>()

  constructor (options: FloodGuardOptions) {
    this.#options = options
  }

  get refusalMs (): number {
    return this.#options.refusalMs
  }

  /** Why a new stream from `peer`, which already holds `open` streams, is refused; undefined to accept it. */
  refusal (peer: string, open: number, now = Date.now()): string | undefined {
    const record = this.#peers.get(peer)
    if (record !== undefined && record.refusedUntil > now) return `${peer} flooded xfer streams; refused for now`
    if (record !== undefined && record.refusedUntil !== 0) this.#peers.delete(peer)
    if (open >= this.#options.maxStreamsPerPeer) return `${peer} already holds ${open} xfer streams`
    return undefined
  }

  /**
   * Counts one stream of `peer` reset for flooding. Returns 'first' on its first strike, 'refused'
   * when this strike starts a refusal, 'counted' otherwise, so the caller logs once per change.
   */
  strike (peer: string, now = Date.now()): 'first' | 'counted' | 'refused' {
    let record = this.#peers.get(peer)
    if (record === undefined) {
      if (this.#peers.size >= this.#options.maxTracked) this.#peers.delete(this.#peers.keys().next().value!)
      record = { strikes: 0, refusedUntil: 0 }
      this.#peers.set(peer, record)
    }
    if (record.refusedUntil > now) return 'counted'
    record.strikes++
    if (record.strikes >= this.#options.strikes) {
      record.refusedUntil = now + this.#options.refusalMs
      return 'refused'
    }
    return record.strikes === 1 ? 'first' : 'counted'
  }
}
