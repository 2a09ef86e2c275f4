import { TypedEventEmitter } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { ShoalError } from '../util/shoal-error.js'
import { SIGNAL_MAX_BYTES, SIGNAL_TOPIC_PREFIX } from './constants.js'
import { TopicValidatorResult } from './gossipsub.js'
import type { GossipMessage, GossipSub } from './gossipsub.js'
import type { ComponentLogger, Libp2pEvents, Logger, PeerId, TypedEventTarget } from '@libp2p/interface'

/** Events of a SignalTopic; `peer` is the signing PeerId as a string. */
export interface SignalTopicEvents {
  /** A member published `data` (at most SIGNAL_MAX_BYTES, otherwise unchecked: the caller decodes it). */
  message: CustomEvent<{ peer: string, data: Uint8Array }>
  /** `peer` lost its last connection to this node. */
  disconnect: CustomEvent<{ peer: string }>
}

export interface SignalTopicComponents {
  peerId: PeerId
  pubsub: GossipSub
  events: TypedEventTarget<Libp2pEvents>
  logger?: ComponentLogger
}

/** The GossipSub topic of signal name `name`. */
export function signalTopic (name: string): string {
  return `${SIGNAL_TOPIC_PREFIX}${name}`
}

/**
 * A named GossipSub topic for small signed messages between the nodes that joined it (flood
 * published: a connected member gets it in one hop). The layers above give the bytes their meaning;
 * only origin and size are checked here.
 */
export class SignalTopic extends TypedEventEmitter<SignalTopicEvents> {
  readonly topic: string
  readonly #components: SignalTopicComponents
  readonly #log: Logger
  #joined = false

  constructor (components: SignalTopicComponents, name: string) {
    super()
    if (!/^[a-z0-9-]{1,32}$/.test(name)) throw new ShoalError('ERR_BAD_ANNOUNCE', `signal topic name "${name}" must be 1-32 of a-z, 0-9, -`)
    this.#components = components
    this.topic = signalTopic(name)
    this.#log = components.logger?.forComponent('shoal:net:signal') ?? logger('shoal:net:signal')
  }

  /** Subscribes and installs the validator. */
  join (): void {
    if (this.#joined) return
    const { pubsub, events } = this.#components
    if (pubsub.topicValidators.has(this.topic)) throw new ShoalError('ERR_ALREADY_JOINED', `${this.topic} is already joined on this node; reuse it`)
    this.#joined = true
    pubsub.topicValidators.set(this.topic, this.#validate)
    pubsub.addEventListener('message', this.#onMessage)
    events.addEventListener('peer:disconnect', this.#onDisconnect)
    pubsub.subscribe(this.topic)
  }

  /** Members of the topic this node is connected to. */
  members (): string[] {
    return this.#joined ? this.#components.pubsub.getSubscribers(this.topic).map(p => p.toString()) : []
  }

  /** Publishes `data` to the members; a failure is logged, never thrown (signals are advisory). */
  async publish (data: Uint8Array): Promise<void> {
    if (!this.#joined) return
    if (data.byteLength > SIGNAL_MAX_BYTES) throw new ShoalError('ERR_BAD_ANNOUNCE', `a signal is at most ${SIGNAL_MAX_BYTES} bytes, got ${data.byteLength}`)
    try {
      await this.#components.pubsub.publish(this.topic, data)
    } catch (err) {
      this.#log('publishing on %s failed: %s', this.topic, (err as Error).message)
    }
  }

  /** Unsubscribes. */
  leave (): void {
    if (!this.#joined) return
    this.#joined = false
    const { pubsub, events } = this.#components
    pubsub.unsubscribe(this.topic)
    pubsub.topicValidators.delete(this.topic)
    pubsub.removeEventListener('message', this.#onMessage)
    events.removeEventListener('peer:disconnect', this.#onDisconnect)
  }

  readonly #validate = (_from: PeerId, msg: GossipMessage): TopicValidatorResult => {
    if (msg.type !== 'signed' || msg.topic !== this.topic || msg.data.byteLength > SIGNAL_MAX_BYTES) return TopicValidatorResult.Reject
    return TopicValidatorResult.Accept
  }

  readonly #onMessage = (evt: CustomEvent<GossipMessage>): void => {
    const msg = evt.detail
    if (msg.topic !== this.topic || msg.type !== 'signed' || msg.from.equals(this.#components.peerId)) return
    if (msg.data.byteLength > SIGNAL_MAX_BYTES) return
    this.safeDispatchEvent('message', { detail: { peer: msg.from.toString(), data: msg.data } })
  }

  readonly #onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.safeDispatchEvent('disconnect', { detail: { peer: evt.detail.toString() } })
  }
}
