import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import type { NetworkApi, SignalTopic } from '../net/index.js'
import { decodeAliasSignal, encodeAliasSignal } from './alias-signal-codec.js'
import type { AliasSignal } from './alias-signal-codec.js'
import { ALIAS_SIGNALS, CLAIM_CHECK_MS, CLAIM_GATHER_MS, CLAIM_QUEUE_MAX_MS, CLAIM_REPEAT_MS, CLAIM_SILENT_MS, CLAIM_SLOTS, CLAIM_STALL_MS, MAX_SIGNALLED_ALIASES, WANT_REPEAT_MS, WANT_TTL_MS } from './constants.js'

/**
 * Who gets an alias's content from elsewhere: a peer that has it (`holder`, the content it named,
 * unverifiable against the alias), a peer that fetches it now or was chosen to (`claimer`), or this
 * node (`self`).
 */
export type ClaimDecision =
  | { kind: 'holder', peer: string, cid: string }
  | { kind: 'claimer', peer: string }
  | { kind: 'self' }

/**
 * How waiting on a claimer ended: a holder appeared (often the claimer itself), or the claimer failed.
 * `peer` of a failure is the claimer that failed: the one waited on, or the one whose claim the wait
 * followed when the chosen peer never claimed (it chose another), which is the one to exclude.
 */
export type ClaimOutcome = { kind: 'holder', peer: string, cid: string } | { kind: 'failed', reason: string, peer: string }

/** This node's claim on an alias while it fetches the content: report progress, then end it. */
export interface ClaimHandle {
  progress: (bytes: number) => void
  /** Ends the claim; `dropped` tells the waiters to choose again (the fetch failed). */
  end: (dropped: boolean) => void
}

interface Heard {
  wanters: Map<string, number>
  claims: Map<string, { at: number, bytes: number, grewAt: number }>
  holders: Map<string, string>
  dropped: Set<string>
}

/**
 * Decides, without the DHT, which one node fetches an alias's content from elsewhere (a registry
 * mirror: from the upstream) when several want it at once, and tells the others the moment it has
 * it. Wants, claims and holders travel on one signal topic; every wanter heard within
 * CLAIM_GATHER_MS enters a rendezvous choice (highest sha256(alias, peer id)), so nodes asked at
 * the same moment choose the same one, and different aliases land on different nodes. A live claim
 * outranks the choice (a late wanter waits for the fetch under way); a claimer that drops, goes
 * silent, stalls or disconnects is excluded and the waiters choose again.
 */
export class AliasClaims {
  readonly #network: () => NetworkApi | undefined
  readonly #log: Logger
  readonly #targets: (alias: string) => string | undefined
  readonly #heard = new Map<string, Heard>()
  /** Own claims: alias -> bytes so far. */
  readonly #claiming = new Map<string, number>()
  readonly #wake = new Set<() => void>()
  #signals?: SignalTopic

  constructor (network: () => NetworkApi | undefined, targets: (alias: string) => string | undefined, log: Logger) {
    this.#network = network
    this.#targets = targets
    this.#log = log
  }

  /** Joins the signal topic (idempotent); false when the network is not started. */
  join (): boolean {
    if (this.#signals !== undefined) return true
    const network = this.#network()
    if (network?.started !== true) return false
    const signals = network.joinSignals(ALIAS_SIGNALS)
    signals.addEventListener('message', ({ detail }) => { this.#onSignal(detail.peer, detail.data) })
    signals.addEventListener('disconnect', ({ detail }) => { this.#forgetPeer(detail.peer) })
    this.#signals = signals
    return true
  }

  /** Connected members of the topic (other nodes that can answer a want). */
  members (): string[] {
    return this.join() ? this.#signals?.members() ?? [] : []
  }

  /**
   * Says this node wants `alias`, listens CLAIM_GATHER_MS for holders, claims and other wanters,
   * and returns who should get it. `exclude`: peers that lied about it or failed to fetch it.
   */
  async decide (alias: string, options: { signal: AbortSignal, exclude: ReadonlySet<string> }): Promise<ClaimDecision> {
    if (!this.join()) return { kind: 'self' }
    this.#publish({ kind: 'want', alias: CID.parse(alias) })
    const until = Date.now() + CLAIM_GATHER_MS
    while (Date.now() < until && this.#holder(alias, options.exclude) === undefined) {
      await this.#changed(until - Date.now(), options.signal)
    }
    const holder = this.#holder(alias, options.exclude)
    if (holder !== undefined) {
      this.#log('%s: held by %s', alias, holder.peer)
      return { kind: 'holder', ...holder }
    }
    const heard = this.#entry(alias)
    const now = Date.now()
    const claimers = this.#liveClaims(alias, options.exclude).map(([peer]) => peer)
    if (claimers.length > 0) {
      this.#log('%s: claimed by %s', alias, claimers.join(', '))
      return { kind: 'claimer', peer: best(alias, claimers) }
    }
    const self = this.#network()?.peerId.toString() ?? ''
    const wanters = [...heard.wanters].filter(([peer, at]) => !options.exclude.has(peer) && now - at < WANT_TTL_MS).map(([peer]) => peer)
    const chosen = best(alias, [self, ...wanters])
    this.#log('%s: %d other wanter(s) of %d member(s), %s fetches it', alias, wanters.length, this.members().length, chosen === self ? 'this node' : chosen)
    return chosen === self ? { kind: 'self' } : { kind: 'claimer', peer: chosen }
  }

  /**
   * Waits until someone has `alias` (announced by a holder) or `claimer` fails: it dropped its
   * claim, disconnected, did not claim within CLAIM_GATHER_MS + CLAIM_SILENT_MS, went silent for
   * CLAIM_SILENT_MS or its bytes did not grow for CLAIM_STALL_MS. Repeats this node's want every
   * WANT_REPEAT_MS meanwhile, so a re-choice among the waiters sees them all.
   */
  async waitFor (alias: string, claimer: string, options: { signal: AbortSignal, exclude: ReadonlySet<string> }): Promise<ClaimOutcome> {
    const started = Date.now()
    const cid = CID.parse(alias)
    let wanted = started
    for (;;) {
      if (Date.now() - wanted >= WANT_REPEAT_MS) {
        wanted = Date.now()
        this.#publish({ kind: 'want', alias: cid })
      }
      const holder = this.#holder(alias, options.exclude)
      if (holder !== undefined) return { kind: 'holder', ...holder }
      const heard = this.#entry(alias)
      const now = Date.now()
      // the chosen one may have heard other wanters and chosen another: whoever claims it is followed
      if (!heard.claims.has(claimer)) {
        const live = this.#liveClaims(alias, options.exclude).map(([peer]) => peer)
        if (live.length > 0) claimer = best(alias, live)
      }
      const claim = heard.claims.get(claimer)
      if (heard.dropped.has(claimer)) return { kind: 'failed', reason: 'it dropped its claim', peer: claimer }
      if (claim === undefined && now - started > CLAIM_GATHER_MS + CLAIM_SILENT_MS) return { kind: 'failed', reason: 'it never claimed it', peer: claimer }
      if (claim !== undefined && now - claim.at > CLAIM_SILENT_MS) return { kind: 'failed', reason: `its claim went silent for ${CLAIM_SILENT_MS} ms`, peer: claimer }
      // a claim with no byte yet may be queued behind other fetches (turn()), for a bounded time
      const stallMs = claim?.bytes === 0 ? CLAIM_QUEUE_MAX_MS + CLAIM_STALL_MS : CLAIM_STALL_MS
      if (claim !== undefined && now - claim.grewAt > stallMs) return { kind: 'failed', reason: `its fetch stalled at ${claim.bytes} bytes`, peer: claimer }
      await this.#changed(CLAIM_CHECK_MS, options.signal)
    }
  }

  /** Claims `alias` for this node (it fetches the content now) until the handle ends it. */
  claim (alias: string): ClaimHandle {
    this.join()
    const cid = CID.parse(alias)
    this.#claiming.set(alias, 0)
    const announce = (): void => {
      const bytes = this.#claiming.get(alias)
      if (bytes !== undefined) this.#publish({ kind: 'claim', alias: cid, bytes })
    }
    announce()
    const timer = setInterval(announce, CLAIM_REPEAT_MS)
    timer.unref()
    return {
      progress: bytes => { if (this.#claiming.has(alias)) this.#claiming.set(alias, bytes) },
      end: dropped => {
        clearInterval(timer)
        if (!this.#claiming.delete(alias)) return
        if (dropped) this.#publish({ kind: 'drop', alias: cid })
      }
    }
  }

  /**
   * Right after claiming, before any byte moves: listens CLAIM_GATHER_MS for rival claims and
   * returns the one to yield to, if any (one that already moves bytes, or ranks higher in the
   * rendezvous choice). Mirrors that decided over different sets of wanters settle here.
   */
  async confirm (alias: string, options: { signal: AbortSignal, exclude: ReadonlySet<string> }): Promise<string | undefined> {
    const until = Date.now() + CLAIM_GATHER_MS
    while (Date.now() < until) await this.#changed(until - Date.now(), options.signal)
    const self = this.#network()?.peerId.toString() ?? ''
    const rivals = this.#liveClaims(alias, options.exclude)
    const moving = rivals.filter(([, c]) => c.bytes > 0).map(([peer]) => peer)
    if (moving.length > 0) return best(alias, moving)
    const chosen = best(alias, [self, ...rivals.map(([peer]) => peer)])
    return chosen === self ? undefined : chosen
  }

  /**
   * Waits until this node's claim on `alias` is among the CLAIM_SLOTS first of every live claim it
   * heard (those moving bytes first, then the queued ones in rendezvous order of their aliases), or
   * CLAIM_QUEUE_MAX_MS passed. Every claimer orders the same claims the same way, so as one fetch
   * ends the next one in line starts.
   */
  async turn (alias: string, options: { signal: AbortSignal }): Promise<void> {
    const until = Date.now() + CLAIM_QUEUE_MAX_MS
    let waited = false
    for (;;) {
      const now = Date.now()
      const moving: string[] = []
      const queued: string[] = []
      for (const [other, heard] of this.#heard) {
        for (const [peer, c] of heard.claims) {
          if (now - c.at >= CLAIM_SILENT_MS) continue
          const key = `${other}\0${peer}`
          if (c.bytes > 0) moving.push(key)
          else queued.push(key)
        }
      }
      const selfId = this.#network()?.peerId.toString() ?? ''
      const self = `${alias}\0${selfId}`
      for (const [other, bytes] of this.#claiming) {
        if (bytes > 0) moving.push(`${other}\0${selfId}`)
        else queued.push(`${other}\0${selfId}`)
      }
      if (!queued.includes(self)) queued.push(self)
      queued.sort((a, b) => rank(a).localeCompare(rank(b)))
      const position = moving.length + queued.indexOf(self)
      if (position < CLAIM_SLOTS || now >= until) {
        if (waited) this.#log('%s: its turn after %d other fetch(es)', alias, moving.length)
        return
      }
      waited = true
      await this.#changed(Math.min(CLAIM_CHECK_MS, until - now), options.signal)
    }
  }

  /** A rival claimer that has received more of `alias` than this node's `bytes`: the one to yield to mid-fetch. */
  ahead (alias: string, bytes: number, exclude: ReadonlySet<string>): string | undefined {
    return this.#liveClaims(alias, exclude).find(([, c]) => c.bytes > bytes)?.[0]
  }

  #liveClaims (alias: string, exclude: ReadonlySet<string>): Array<[string, { at: number, bytes: number }]> {
    const now = Date.now()
    return [...this.#heard.get(alias)?.claims ?? []].filter(([peer, c]) => !exclude.has(peer) && now - c.at < CLAIM_SILENT_MS)
  }

  /** Tells the topic this node holds `alias` as content `cid` (and ends its claim on it). */
  announce (alias: string, cid: string): void {
    if (!this.join()) return
    this.#claiming.delete(alias)
    this.#publish({ kind: 'have', alias: CID.parse(alias), cid: CID.parse(cid) })
  }

  /** Peers heard to hold `alias`, with the content each named. */
  holders (alias: string): Map<string, string> {
    return new Map(this.#heard.get(alias)?.holders)
  }

  /** Forgets a holder whose answer was wrong or gone. */
  forgetHolder (alias: string, peer: string): void {
    this.#heard.get(alias)?.holders.delete(peer)
  }

  #holder (alias: string, exclude: ReadonlySet<string>): { peer: string, cid: string } | undefined {
    for (const [peer, cid] of this.#heard.get(alias)?.holders ?? []) {
      if (!exclude.has(peer)) return { peer, cid }
    }
    return undefined
  }

  #publish (signal: AliasSignal): void {
    void this.#signals?.publish(encodeAliasSignal(signal))
  }

  #onSignal (peer: string, data: Uint8Array): void {
    let signal: AliasSignal
    try {
      signal = decodeAliasSignal(data)
    } catch (err) {
      this.#log('signal from %s ignored: %e', peer, err)
      return
    }
    const alias = signal.alias.toString()
    const heard = this.#entry(alias)
    const now = Date.now()
    switch (signal.kind) {
      case 'want': {
        heard.wanters.set(peer, now)
        // answered at once: the wanter decides within CLAIM_GATHER_MS
        const target = this.#targets(alias)
        if (target !== undefined) this.#publish({ kind: 'have', alias: signal.alias, cid: CID.parse(target) })
        else if (this.#claiming.has(alias)) this.#publish({ kind: 'claim', alias: signal.alias, bytes: this.#claiming.get(alias) ?? 0 })
        break
      }
      case 'claim': {
        const prior = heard.claims.get(peer)
        heard.claims.set(peer, { at: now, bytes: signal.bytes, grewAt: prior === undefined || signal.bytes > prior.bytes ? now : prior.grewAt })
        heard.dropped.delete(peer)
        break
      }
      case 'have':
        heard.holders.set(peer, signal.cid.toString())
        heard.claims.delete(peer)
        heard.wanters.delete(peer)
        break
      case 'drop':
        heard.claims.delete(peer)
        heard.wanters.delete(peer)
        heard.dropped.add(peer)
        break
    }
    this.#notify()
  }

  #forgetPeer (peer: string): void {
    for (const heard of this.#heard.values()) {
      heard.wanters.delete(peer)
      heard.holders.delete(peer)
      if (heard.claims.delete(peer)) heard.dropped.add(peer)
    }
    this.#notify()
  }

  #entry (alias: string): Heard {
    let heard = this.#heard.get(alias)
    if (heard === undefined) {
      heard = { wanters: new Map(), claims: new Map(), holders: new Map(), dropped: new Set() }
      // a Map keeps insertion order: the first key is the alias heard of longest ago
      const oldest = this.#heard.keys().next()
      if (this.#heard.size >= MAX_SIGNALLED_ALIASES && oldest.done !== true) this.#heard.delete(oldest.value)
    } else {
      this.#heard.delete(alias)
    }
    this.#heard.set(alias, heard)
    return heard
  }

  #notify (): void {
    const wake = [...this.#wake]
    this.#wake.clear()
    for (const w of wake) w()
  }

  /** Resolves on the next signal or after `ms`; rejects when `signal` aborts. */
  async #changed (ms: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    const woken = new AbortController()
    const wake = (): void => { woken.abort() }
    this.#wake.add(wake)
    try {
      await sleep(Math.max(0, ms), undefined, { signal: AbortSignal.any([signal, woken.signal]) }).catch(() => {})
      signal.throwIfAborted()
    } finally {
      this.#wake.delete(wake)
    }
  }
}

function rank (key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

/** The peer with the highest sha256(alias, peer) (rendezvous hashing): every node computes the same one. */
function best (alias: string, peers: string[]): string {
  let chosen = ''
  let top = ''
  for (const peer of peers) {
    const score = createHash('sha256').update(alias).update('\0').update(peer).digest('hex')
    if (score > top) { top = score; chosen = peer }
  }
  return chosen
}
