import { TypedEventEmitter } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { CID } from 'multiformats/cid'
import { Bitfield } from '../util/bitfield.js'
import { ShoalError } from '../util/shoal-error.js'
import { decodeAnnounce, encodeBitfield, encodeHave, encodeLeave } from './announce-codec.js'
import {
  BITFIELD_ON_SUBSCRIBE_DELAY_MS,
  BITFIELD_REPUBLISH_INTERVAL_MS,
  HAVE_FLUSH_DELAY_MS,
  HAVE_FLUSH_MAX_INDEXES,
  HAVE_MAX_INDEXES,
  HAVE_TOPIC_PREFIX,
  LEAVE_GRACE_MS
} from './constants.js'
import { TopicValidatorResult } from './gossipsub.js'
import type { AnnounceContext, DecodedAnnounce } from './announce-codec.js'
import type { GossipMessage, GossipSub } from './gossipsub.js'
import type { ComponentLogger, Libp2pEvents, Logger, PeerId, TypedEventTarget } from '@libp2p/interface'

/** Why a peer left the view: its LEAVE message, it unsubscribed from the topic, or it disconnected. */
export type LeaveReason = 'leave' | 'unsubscribe' | 'disconnect'

/** Events of a HaveAnnouncer; `peer` is the announcing PeerId as a string. */
export interface HaveAnnouncerEvents {
  /** `peer` announced newly verified chunks. */
  have: CustomEvent<{ peer: string, indexes: number[] }>
  /** `peer` announced its whole bitfield (replaces what was known). */
  bitfield: CustomEvent<{ peer: string, bitfield: Bitfield }>
  /** `peer` left the content (LEAVE, unsubscribe or disconnect); forget its availability. */
  leave: CustomEvent<{ peer: string, reason: LeaveReason }>
}

export interface HaveAnnouncerComponents {
  peerId: PeerId
  pubsub: GossipSub
  events: TypedEventTarget<Libp2pEvents>
  /** The node's logger; without one, lines carry no node tag. */
  logger?: ComponentLogger
}

export interface HaveAnnouncerInit {
  cid: string
  chunkCount: number
  /** Chunks held when joining; copied, later updated through announceHave(). */
  bitfield?: Bitfield
  flushDelayMs?: number
  flushMaxIndexes?: number
  republishIntervalMs?: number
  /** Counts every announcement received, published or rejected by the validator (for metrics). */
  onGossip?: (kind: GossipCount) => void
}

/** What happened to one announcement: delivered to us, published by us, or refused by the validator. */
export type GossipCount = 'in' | 'out' | 'rejected'

/** The GossipSub topic carrying announcements about `cid`. */
export function haveTopic (cid: string): string {
  return `${HAVE_TOPIC_PREFIX}${cid}`
}

/**
 * Announces this node's chunks of one content on its GossipSub topic and passes the other members'
 * announcements on as events. It keeps no view of who holds what (the node keeps the content's one
 * view, src/swarm/availability.ts), only which members announced, so a member's leave is reported
 * once. HAVEs are batched so a fast download does not flood the topic; the full bitfield is
 * published on join, periodically and when a peer subscribes, because gossip is lossy. Only
 * availability travels here, never data.
 */
export class HaveAnnouncer extends TypedEventEmitter<HaveAnnouncerEvents> {
  readonly cid: string
  readonly chunkCount: number
  readonly topic: string
  readonly #components: HaveAnnouncerComponents
  readonly #ctx: AnnounceContext
  readonly #log: Logger
  readonly #local: Bitfield
  /** Peers that announced something and have not left: a leave is reported for these only. */
  readonly #members = new Set<string>()
  /** Members that unsubscribed or disconnected, forgotten when the grace ends (LEAVE_GRACE_MS). */
  readonly #departing = new Map<string, ReturnType<typeof setTimeout>>()
  readonly #pending = new Set<number>()
  readonly #flushDelay: number
  readonly #flushMax: number
  readonly #republishInterval: number
  readonly #onGossip: (kind: GossipCount) => void
  #flushTimer?: ReturnType<typeof setTimeout>
  /** When the last HAVE batch was published (performance.now()). */
  #lastFlushAt = -Infinity
  #bitfieldTimer?: ReturnType<typeof setTimeout>
  #republishTimer?: ReturnType<typeof setInterval>
  #joined = false

  constructor (components: HaveAnnouncerComponents, init: HaveAnnouncerInit) {
    super()
    if (!Number.isSafeInteger(init.chunkCount) || init.chunkCount <= 0) {
      throw new ShoalError('ERR_BAD_ANNOUNCE', `chunk count must be a positive integer, got ${init.chunkCount}`)
    }
    if (init.bitfield !== undefined && init.bitfield.length !== init.chunkCount) {
      throw new ShoalError('ERR_BAD_ANNOUNCE', `bitfield has ${init.bitfield.length} bits but the content has ${init.chunkCount} chunks`)
    }
    this.#components = components
    this.#log = components.logger?.forComponent('shoal:net:have-announcer') ?? logger('shoal:net:have-announcer')
    this.cid = init.cid
    this.chunkCount = init.chunkCount
    this.topic = haveTopic(init.cid)
    this.#ctx = { cid: CID.parse(init.cid), chunkCount: init.chunkCount }
    this.#local = init.bitfield?.clone() ?? new Bitfield(init.chunkCount)
    this.#flushDelay = init.flushDelayMs ?? HAVE_FLUSH_DELAY_MS
    this.#flushMax = Math.min(init.flushMaxIndexes ?? HAVE_FLUSH_MAX_INDEXES, HAVE_MAX_INDEXES)
    this.#republishInterval = init.republishIntervalMs ?? BITFIELD_REPUBLISH_INTERVAL_MS
    this.#onGossip = init.onGossip ?? (() => {})
  }

  /** Subscribes to the topic, installs the validator and publishes this node's bitfield. */
  join (): void {
    if (this.#joined) return
    const { pubsub, events } = this.#components
    if (pubsub.topicValidators.has(this.topic)) {
      throw new ShoalError('ERR_ALREADY_JOINED', `content ${this.cid} is already joined on this node; reuse its announcer`)
    }
    this.#joined = true
    pubsub.topicValidators.set(this.topic, this.#validate)
    pubsub.addEventListener('message', this.#onMessage)
    pubsub.addEventListener('subscription-change', this.#onSubscriptionChange)
    events.addEventListener('peer:disconnect', this.#onDisconnect)
    pubsub.subscribe(this.topic)
    this.#republishTimer = setInterval(() => { this.#publishBitfield() }, this.#republishInterval)
    this.#republishTimer.unref()
    this.#publishBitfield()
    this.#log('joined %s', this.topic)
  }

  /** Records that chunk `index` is now held and verified; announced in the next HAVE batch. */
  announceHave (index: number): void {
    if (!this.#local.set(index)) return
    if (!this.#joined) return
    this.#pending.add(index)
    if (this.#pending.size >= this.#flushMax) {
      void this.flush()
    } else if (this.#flushTimer === undefined) {
      // At most one batch per interval, but the first after a quiet one goes out at once (in the
      // same tick's batch): while chunks arrive slowly, as at a swarm's start, each hop of a new
      // chunk's spread waited a whole interval for its HAVE.
      const wait = Math.max(0, this.#lastFlushAt + this.#flushDelay - performance.now())
      this.#flushTimer = setTimeout(() => { void this.flush() }, wait)
    }
  }

  /** Publishes every pending HAVE now. */
  async flush (): Promise<void> {
    clearTimeout(this.#flushTimer)
    this.#flushTimer = undefined
    if (this.#pending.size === 0) return
    this.#lastFlushAt = performance.now()
    const indexes = [...this.#pending]
    this.#pending.clear()
    for (let i = 0; i < indexes.length; i += HAVE_MAX_INDEXES) {
      await this.#publish(encodeHave(this.#ctx, indexes.slice(i, i + HAVE_MAX_INDEXES)), 'HAVE')
    }
  }

  /** The chunks this node announces as held. */
  get localBitfield (): Bitfield {
    return this.#local.clone()
  }

  /** True when `peer` announced something on the topic and has not left since. */
  isMember (peer: PeerId | string): boolean {
    return this.#members.has(peer.toString())
  }

  /** Flushes pending HAVEs, publishes LEAVE and unsubscribes; the members are forgotten. */
  async leave (): Promise<void> {
    if (!this.#joined) return
    await this.flush().catch(err => { this.#log.error('flush before leave failed: %e', err) })
    await this.#publish(encodeLeave(this.#ctx), 'LEAVE')
    this.#joined = false
    clearInterval(this.#republishTimer)
    clearTimeout(this.#bitfieldTimer)
    clearTimeout(this.#flushTimer)
    const { pubsub, events } = this.#components
    pubsub.unsubscribe(this.topic)
    pubsub.topicValidators.delete(this.topic)
    pubsub.removeEventListener('message', this.#onMessage)
    pubsub.removeEventListener('subscription-change', this.#onSubscriptionChange)
    events.removeEventListener('peer:disconnect', this.#onDisconnect)
    for (const timer of this.#departing.values()) clearTimeout(timer)
    this.#departing.clear()
    this.#members.clear()
    this.#log('left %s', this.topic)
  }

  #publishBitfield (): void {
    if (!this.#joined) return
    void this.#publish(encodeBitfield(this.#ctx, this.#local), 'BITFIELD')
  }

  async #publish (data: Uint8Array, what: string): Promise<void> {
    try {
      const { recipients } = await this.#components.pubsub.publish(this.topic, data)
      this.#onGossip('out')
      this.#log.trace('published %s on %s to %d peers', what, this.topic, recipients.length)
    } catch (err) {
      this.#log('publishing %s on %s failed: %s', what, this.topic, (err as Error).message)
    }
  }

  // Runs before a message is delivered or forwarded: rejected messages go nowhere and count
  // against the forwarding peer's score.
  readonly #validate = (_from: PeerId, msg: GossipMessage): TopicValidatorResult => {
    if (msg.type !== 'signed' || msg.topic !== this.topic) {
      this.#onGossip('rejected')
      return TopicValidatorResult.Reject
    }
    try {
      decodeAnnounce(msg.data, this.#ctx)
      return TopicValidatorResult.Accept
    } catch (err) {
      this.#log('rejected message on %s from %p: %s', this.topic, msg.from, (err as Error).message)
      this.#onGossip('rejected')
      return TopicValidatorResult.Reject
    }
  }

  readonly #onMessage = (evt: CustomEvent<GossipMessage>): void => {
    const msg = evt.detail
    if (msg.topic !== this.topic || msg.type !== 'signed') return
    const peer = msg.from.toString()
    if (msg.from.equals(this.#components.peerId)) return
    let decoded: DecodedAnnounce
    try {
      decoded = decodeAnnounce(msg.data, this.#ctx)
    } catch {
      return
    }
    this.#onGossip('in')
    switch (decoded.type) {
      case 'have':
        this.#members.add(peer)
        this.safeDispatchEvent('have', { detail: { peer, indexes: decoded.indexes } })
        break
      case 'bitfield':
        this.#members.add(peer)
        this.safeDispatchEvent('bitfield', { detail: { peer, bitfield: decoded.bitfield } })
        break
      case 'leave':
        this.#forget(peer, 'leave')
        break
    }
  }

  readonly #onSubscriptionChange = (evt: CustomEvent<{ peerId: PeerId, subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
    const sub = evt.detail.subscriptions.find(s => s.topic === this.topic)
    if (sub === undefined) return
    if (!sub.subscribe) {
      this.#depart(evt.detail.peerId.toString(), 'unsubscribe')
      return
    }
    // A newcomer should not wait for the periodic republish; coalesce a burst of joins into one.
    if (this.#bitfieldTimer === undefined) {
      this.#bitfieldTimer = setTimeout(() => {
        this.#bitfieldTimer = undefined
        this.#publishBitfield()
      }, BITFIELD_ON_SUBSCRIBE_DELAY_MS)
    }
  }

  readonly #onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.#depart(evt.detail.toString(), 'disconnect')
  }

  /** An unsubscribe or a disconnect: the member is forgotten after the grace unless it is back on the topic. */
  #depart (peer: string, reason: Exclude<LeaveReason, 'leave'>): void {
    if (!this.#members.has(peer) || this.#departing.has(peer)) return
    const timer = setTimeout(() => {
      this.#departing.delete(peer)
      const back = this.#components.pubsub.getSubscribers(this.topic).some(p => p.toString() === peer)
      if (!back) this.#forget(peer, reason)
    }, LEAVE_GRACE_MS)
    timer.unref()
    this.#departing.set(peer, timer)
  }

  #forget (peer: string, reason: LeaveReason): void {
    const timer = this.#departing.get(peer)
    if (timer !== undefined) {
      clearTimeout(timer)
      this.#departing.delete(peer)
    }
    if (this.#members.delete(peer)) this.safeDispatchEvent('leave', { detail: { peer, reason } })
  }
}
