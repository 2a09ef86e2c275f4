import {
  DEFAULT_UPLOAD_SLOTS, DEFAULT_UPLOAD_SLOT_IDLE_MS, DEFAULT_UPLOAD_SLOT_MAX_HOLD_MS, DEFAULT_UPLOAD_SLOT_RESERVE_MS,
  DEFAULT_UPLOAD_WAITER_TTL_MS
} from './constants.js'

export interface UploadSlotsInit {
  /** Peers uploaded to at once. Default 8. */
  slots?: number
  /** A holder that asked for nothing this long loses its slot. */
  idleMs?: number
  /** A holder keeps its slot at most this long while other peers wait. */
  maxHoldMs?: number
  /** A freed slot is kept this long for the longest-waiting peer. */
  reserveMs?: number
  /** A refused peer that did not ask again within this time is forgotten. */
  waiterTtlMs?: number
  /** Clock in ms, for tests. Default performance.now. */
  now?: () => number
}

interface Slot { since: number, lastActive: number }
interface Waiter { since: number, lastAsked: number }

/**
 * At most N peers are uploaded to at once; the rest are answered 'busy' and retry. Fairness: refused
 * peers queue in arrival order, a freed slot is held for the longest waiter for a moment (so a peer
 * that happens to ask at the right instant cannot jump the queue), and a holder that has had its slot
 * for `maxHoldMs` while others wait gives it up at its next request (like BitTorrent's rechoke).
 * Expiry is checked lazily on each call: no timers.
 */
export class UploadSlots {
  readonly slots: number
  readonly #idleMs: number
  readonly #maxHoldMs: number
  readonly #reserveMs: number
  readonly #waiterTtlMs: number
  readonly #now: () => number
  readonly #holders = new Map<string, Slot>()
  readonly #waiters = new Map<string, Waiter>()
  readonly #reserved = new Map<string, number>()
  /**
   * No entry can expire before this (a lower bound: refreshes only move deadlines later), so #expire
   * skips its three scans until then; they ran on every request and were a visible share of the
   * simulator's profile at a seeder with hundreds of waiters.
   */
  #nextExpiry = Infinity

  constructor (init: UploadSlotsInit = {}) {
    this.slots = Math.max(1, init.slots ?? DEFAULT_UPLOAD_SLOTS)
    this.#idleMs = init.idleMs ?? DEFAULT_UPLOAD_SLOT_IDLE_MS
    this.#maxHoldMs = init.maxHoldMs ?? DEFAULT_UPLOAD_SLOT_MAX_HOLD_MS
    this.#reserveMs = init.reserveMs ?? DEFAULT_UPLOAD_SLOT_RESERVE_MS
    this.#waiterTtlMs = init.waiterTtlMs ?? DEFAULT_UPLOAD_WAITER_TTL_MS
    this.#now = init.now ?? (() => performance.now())
  }

  /** Peers holding a slot now. */
  get holders (): string[] {
    this.#expire(this.#now())
    return [...this.#holders.keys()]
  }

  /**
   * Asks for a slot to serve one request of `peer`: 'ok' (slot held, idle timer refreshed) or 'busy'.
   * `uplinkIdle`: nothing else is queued for the uplink, so a peer without a slot is served this one
   * request anyway (it stays in line for a slot): a 'busy' then would leave the uplink idle.
   * `rare`: the request is for a chunk few peers hold (see rareRequest): served the same way, so a
   * fresh chunk spreads on without waiting for a slot.
   */
  acquire (peer: string, options: { uplinkIdle?: boolean, rare?: boolean } = {}): 'ok' | 'busy' {
    const now = this.#now()
    this.#expire(now)
    const held = this.#holders.get(peer)
    if (held !== undefined) {
      if (now - held.since >= this.#maxHoldMs && this.#waiters.size > 0) {
        this.#free(peer, now)
        this.#wait(peer, now)
        return 'busy'
      }
      held.lastActive = now
      return 'ok'
    }
    const free = this.slots - this.#holders.size - this.#reserved.size
    // A free slot goes to the peer it is reserved for, else to the first in line (or anyone when nobody waits).
    if (this.#reserved.has(peer) || (free > 0 && [undefined, peer].includes(this.#firstUnreservedWaiter()))) {
      this.#reserved.delete(peer)
      this.#waiters.delete(peer)
      this.#holders.set(peer, { since: now, lastActive: now })
      this.#expiresAt(now + this.#idleMs)
      return 'ok'
    }
    this.#wait(peer, now)
    return options.uplinkIdle === true || options.rare === true ? 'ok' : 'busy'
  }

  /** Gives the slot of `peer` back (it disconnected or is done). */
  release (peer: string): void {
    const now = this.#now()
    this.#waiters.delete(peer)
    this.#reserved.delete(peer)
    if (this.#holders.has(peer)) this.#free(peer, now)
  }

  #firstUnreservedWaiter (): string | undefined {
    for (const w of this.#waiters.keys()) {
      if (!this.#reserved.has(w)) return w
    }
    return undefined
  }

  #wait (peer: string, now: number): void {
    const w = this.#waiters.get(peer)
    if (w === undefined) {
      this.#waiters.set(peer, { since: now, lastAsked: now })
      this.#expiresAt(now + this.#waiterTtlMs)
    } else {
      w.lastAsked = now
    }
  }

  #free (peer: string, now: number): void {
    this.#holders.delete(peer)
    const next = this.#firstUnreservedWaiter()
    if (next !== undefined) this.#reserve(next, now)
  }

  #reserve (peer: string, now: number): void {
    this.#reserved.set(peer, now + this.#reserveMs)
    this.#expiresAt(now + this.#reserveMs)
  }

  #expiresAt (deadline: number): void {
    if (deadline < this.#nextExpiry) this.#nextExpiry = deadline
  }

  #expire (now: number): void {
    // Every expiry test is strict (now past the deadline).
    if (now <= this.#nextExpiry) return
    this.#nextExpiry = Infinity
    for (const [peer, w] of this.#waiters) {
      if (now - w.lastAsked > this.#waiterTtlMs) {
        this.#waiters.delete(peer)
        this.#reserved.delete(peer)
      }
    }
    for (const [peer, until] of this.#reserved) {
      if (now > until) {
        this.#reserved.delete(peer)
        // The slot passes to the next waiter in line, the late one keeps its place at the back.
        const w = this.#waiters.get(peer)
        if (w !== undefined) {
          this.#waiters.delete(peer)
          this.#waiters.set(peer, w)
        }
        for (const next of this.#waiters.keys()) {
          if (next === peer || this.#reserved.has(next)) continue
          this.#reserve(next, now)
          break
        }
      }
    }
    for (const [peer, slot] of this.#holders) {
      if (now - slot.lastActive > this.#idleMs) this.#free(peer, now)
    }
    for (const w of this.#waiters.values()) this.#expiresAt(w.lastAsked + this.#waiterTtlMs)
    for (const until of this.#reserved.values()) this.#expiresAt(until)
    for (const slot of this.#holders.values()) this.#expiresAt(slot.lastActive + this.#idleMs)
  }
}
