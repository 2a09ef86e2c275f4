import { DEFAULT_FIRST_COPY_GRACE_MS, DEFAULT_FIRST_COPY_IDLE_SPREAD, DEFAULT_FIRST_COPY_SPREAD, DEFAULT_LAST_RESORT_GRACE_MS, DEFAULT_REFUSAL_WINDOW_MS } from './constants.js'
import type { AvailabilityView } from './availability.js'
import { ClaimReports } from './claim-reports.js'
import { RefusalWindow } from './refusal-window.js'

/** What FirstCopyPolicy.admit is told about one chunk request. */
export interface AdmitOptions {
  /** Nothing else is queued for the uplink. */
  uplinkIdle?: boolean
  /** The asker has no other source (REQUEST last_resort). */
  lastResort?: boolean
  /** The peers the asker banned (REQUEST excluded); unchecked, see ClaimReports. */
  excluded?: readonly string[]
}

/**
 * Why a seeder policy answered: a first upload, a re-upload to a peer with no other source
 * (`last-resort`), to the peer that got the previous copy, of a chunk nobody else covers, or after
 * the refusal window ran out; or a refusal.
 */
export type AdmitReason = 'fresh' | 'last-resort' | 'same-peer' | 'uncovered' | 'window-over' | 'refused'

export interface FirstCopyPolicyInit {
  /** Who holds what in the swarm, from gossip; it must not count the seeder itself. */
  availability: AvailabilityView
  /** A re-upload is refused this long after the previous one even if nobody holds the chunk yet (it is on its way). */
  graceMs?: number
  /** Once every chunk went out, a chunk this many other peers hold is left to them. Default 1: any holder. */
  spreadCopies?: number
  /** A peer is sent elsewhere for one chunk at most this long, then served. Default DEFAULT_REFUSAL_WINDOW_MS. */
  refusalWindowMs?: number
  /** Once every chunk went out, an idle uplink serves chunks fewer than this many other peers hold. Default DEFAULT_FIRST_COPY_IDLE_SPREAD. */
  idleSpreadCopies?: number
  /**
   * A last resort for a chunk another peer got as a last resort less than this long ago goes through
   * the refusal window instead of being served at once. Default DEFAULT_LAST_RESORT_GRACE_MS.
   */
  lastResortGraceMs?: number
  /** Distinct askers that must name a peer as banned before its claims stop counting. Default DEFAULT_SUSPECT_REPORTERS. */
  suspectReporters?: number
  /** Clock in ms, for tests. */
  now?: () => number
}

/**
 * The origin's upload rule (a node seeding content it added itself): while some chunk has never
 * been uploaded, a chunk that was already uploaded (or is being uploaded) is refused, so
 * the seeder's uplink carries fresh chunks and the swarm trades the rest. Without it, receivers that
 * cannot see each other's requests in flight ask the seeder for the same rare chunk, and the seeder
 * sent the file about twice. A chunk whose only copy is gone (nobody else is known to hold it and its
 * last upload began more than `graceMs` ago) is served again, so nothing starves. Once every chunk
 * went out, only chunks fewer than `spreadCopies` other peers hold and whose last copy left more than
 * `graceMs` ago are served (the seeder's extra copies went mostly to chunks the swarm already had,
 * or was about to).
 *
 * A refusal is a hint, never a denial: a peer is sent elsewhere for a given chunk for at most
 * `refusalWindowMs` from the first refusal, and served it when it asks after that (RefusalWindow). The holders this policy counts are claims from gossip, which the seeder cannot
 * check and the asker may rightly distrust (they may serve garbage the asker banned them for, or
 * announce chunks they never serve). The REQUEST says whom its asker banned (`excluded`), which
 * this policy counts but cannot check either: see admit(). A peer still asking
 * for a chunk once the window is over found no better source, so refusing it again could deny the
 * chunk's last honest source. Measured on the old rule: 2 corrupting receivers of 8 left every honest
 * one stuck at 117-120 of 128 chunks, and two identities announcing every chunk got a newcomer 0
 * chunks in 75 s. The cost is bounded: at most one extra copy per peer and chunk per window. Refusing
 * only once (no window) let receivers come back 2 s later for chunks honest holders were about to
 * serve: the origin sent F x 1.29 instead of 1.00 in the swarm simulation (measured on the origin
 * policy retired in session 22; docs/decisions.md).
 */
const NO_SUSPECTS: readonly string[] = []

export class FirstCopyPolicy {
  readonly size: number
  readonly #availability: AvailabilityView
  readonly #graceMs: number
  readonly #spreadCopies: number
  readonly #idleSpreadCopies: number
  readonly #lastResortGraceMs: number
  readonly #now: () => number
  readonly #uploads: Uint32Array
  readonly #lastUploadAt: Float64Array
  readonly #lastPeer: Array<string | undefined>
  /** Whether the latest copy of each chunk went out as a last resort. */
  readonly #lastWasResort: Uint8Array
  /** When each peer was first sent elsewhere for each chunk: refusals end on their own. */
  readonly #refused: RefusalWindow
  /** Whom askers said they banned: a suspect's claims and copies cover nothing. */
  readonly #reports: ClaimReports
  #fresh: number
  #lastReason: AdmitReason = 'fresh'

  constructor (init: FirstCopyPolicyInit) {
    this.#availability = init.availability
    this.size = init.availability.size
    this.#graceMs = init.graceMs ?? DEFAULT_FIRST_COPY_GRACE_MS
    this.#spreadCopies = Math.max(1, init.spreadCopies ?? DEFAULT_FIRST_COPY_SPREAD)
    this.#idleSpreadCopies = Math.max(this.#spreadCopies, init.idleSpreadCopies ?? DEFAULT_FIRST_COPY_IDLE_SPREAD)
    this.#lastResortGraceMs = init.lastResortGraceMs ?? DEFAULT_LAST_RESORT_GRACE_MS
    this.#now = init.now ?? (() => performance.now())
    this.#refused = new RefusalWindow(init.refusalWindowMs ?? DEFAULT_REFUSAL_WINDOW_MS)
    this.#reports = new ClaimReports(init.suspectReporters)
    this.#uploads = new Uint32Array(this.size)
    this.#lastUploadAt = new Float64Array(this.size)
    this.#lastPeer = new Array<string | undefined>(this.size)
    this.#lastWasResort = new Uint8Array(this.size)
    this.#fresh = this.size
  }

  /** Why the latest admit answered as it did (for the upload trace). */
  get lastReason (): AdmitReason {
    return this.#lastReason
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
   * that got the previous copy may always ask again: it evidently did not receive it. A peer sent
   * elsewhere for `index` longer than the refusal window ago is served it, and so is one that says it
   * has no other source (`lastResort`: the holders counted here are claims, which it has checked).
   * `uplinkIdle`: nothing else is queued for the uplink; once every chunk went out, a chunk fewer
   * than `idleSpreadCopies` others hold is then served (a priority, not a refusal: an idle origin is
   * time lost for good).
   *
   * `excluded`: the peers the asker says it banned. A peer that enough askers named is a suspect
   * (ClaimReports): its claims and the copies sent to it cover nothing, so an honest asker is served
   * a chunk only suspects hold. A suspect itself is served as if nobody reported anything, except
   * that its last resort is not taken at its word and a first copy goes to others first: both wait
   * out the refusal window at most, so a false report delays its target, never denies it. Reports
   * count only while the suspects are fewer than half the members: a majority cannot be bad.
   */
  admit (peer: string, index: number, options: AdmitOptions = {}): 'ok' | 'elsewhere' {
    if (index < 0 || index >= this.size) return 'ok'
    // only members this view knows can be reported: names it never heard of cannot fill the record
    if (options.excluded !== undefined && options.excluded.length > 0) {
      this.#reports.report(peer, options.excluded.filter(p => this.#availability.knows(p)))
    }
    const suspect = this.#isSuspect(peer)
    const lastResort = options.lastResort === true && !suspect
    const uploads = this.#uploads[index]!
    const now = this.#now()
    if (uploads === 0 && suspect && this.#refused.refuse(peer, index, now)) {
      // netns-like simulation, 3 of 8 receivers corrupting: 50 of 128 first copies went to them
      this.#lastReason = 'refused'
      return 'elsewhere'
    } else if (uploads === 0) this.#lastReason = 'fresh'
    else if (lastResort && !this.#resortOnItsWay(peer, index, now, options.excluded)) this.#lastReason = 'last-resort'
    else if (this.#lastPeer[index] === peer) this.#lastReason = 'same-peer'
    else if (!this.#wouldRefuse(index, now, options.uplinkIdle === true, suspect)) this.#lastReason = 'uncovered'
    else if (this.#refused.refuse(peer, index, now)) {
      this.#lastReason = 'refused'
      return 'elsewhere'
    } else this.#lastReason = 'window-over'
    if (uploads === 0) this.#fresh--
    this.#uploads[index] = uploads + 1
    this.#lastUploadAt[index] = now
    this.#lastPeer[index] = peer
    this.#lastWasResort[index] = this.#lastReason === 'last-resort' ? 1 : 0
    return 'ok'
  }

  /**
   * A last-resort copy of `index` left for another peer within the last-resort grace: `peer`'s last
   * resort then waits its turn under the refusal window, as any other re-upload does, since that copy
   * will be announced in a moment (and if its holder turns out bad, the window serves `peer` anyway).
   * Even with an idle uplink: in the tail of a run with corrupters the uplink is idle between asks,
   * and serving each asker its own copy is what made the tail. Not when that copy went to a peer
   * this asker banned (it will never take it from there) or to a suspect.
   */
  #resortOnItsWay (peer: string, index: number, now: number, excluded: readonly string[] | undefined): boolean {
    const last = this.#lastPeer[index]
    return this.#lastWasResort[index] === 1 && last !== undefined && last !== peer &&
      now - this.#lastUploadAt[index]! < this.#lastResortGraceMs &&
      excluded?.includes(last) !== true && !this.#isSuspect(last)
  }

  /** The suspects, or none while they would be half the members or more. */
  #suspects (): readonly string[] {
    const suspects = this.#reports.suspects
    return suspects.length > 0 && suspects.length * 2 < this.#availability.peerCount ? suspects : NO_SUSPECTS
  }

  #isSuspect (peer: string): boolean {
    const suspects = this.#suspects()
    return suspects.length > 0 && suspects.includes(peer)
  }

  /** Other peers holding `index`, suspects not counted unless `countSuspects`. */
  #holders (index: number, countSuspects: boolean): number {
    let holders = this.#availability.count(index)
    if (countSuspects) return holders
    for (const suspect of this.#suspects()) if (this.#availability.peerHas(suspect, index)) holders--
    return holders
  }

  /** The last copy of `index` left less than the grace ago (to a peer that is not a suspect, unless `countSuspects`): it is on its way. */
  #onItsWay (index: number, now: number, countSuspects: boolean): boolean {
    if (now - this.#lastUploadAt[index]! >= this.#graceMs) return false
    const last = this.#lastPeer[index]
    return countSuspects || last === undefined || !this.#isSuspect(last)
  }

  /**
   * Chunk `index` left the uplink: its grace runs from now, not from its admission, so a copy that
   * waited in a queue is not sent again to others before it could even arrive.
   */
  sent (index: number): void {
    if (index >= 0 && index < this.size && this.#uploads[index]! > 0) this.#lastUploadAt[index] = this.#now()
  }

  /**
   * `peer` left: forgets what it was refused, so the record stays as large as the swarm, and a copy
   * last sent to it no longer counts as on its way (it will never be re-served from there; without
   * this a daemon that fetched a chunk the previous one got within the grace waited out the refusal
   * window, 6 s on loopback).
   */
  removePeer (peer: string): void {
    this.#refused.removePeer(peer)
    this.#reports.removePeer(peer)
    for (let index = 0; index < this.size; index++) {
      if (this.#lastPeer[index] !== peer) continue
      this.#lastPeer[index] = undefined
      this.#lastUploadAt[index] = Number.NEGATIVE_INFINITY
    }
  }

  #wouldRefuse (index: number, now: number, uplinkIdle: boolean, countSuspects: boolean): boolean {
    const holders = this.#holders(index, countSuspects)
    if (this.#fresh > 0) return holders > 0 || this.#onItsWay(index, now, countSuspects)
    // Every chunk went out once: the seeder now only helps with chunks that are still scarce, and
    // with an idle uplink it helps the few-copies ones spread (its time is lost otherwise). A copy
    // still on its way (within the grace) covers its chunk too: the last fresh chunks are what every
    // receiver asks for at once, and before their first holder announced them each went to 5-6 of
    // 8 receivers (netns bench, session 19).
    return holders >= (uplinkIdle ? this.#idleSpreadCopies : this.#spreadCopies) || this.#onItsWay(index, now, countSuspects)
  }
}
