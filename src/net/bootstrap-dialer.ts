import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import {
  BOOTSTRAP_BACKOFF_INITIAL_MS,
  BOOTSTRAP_BACKOFF_JITTER,
  BOOTSTRAP_BACKOFF_MAX_MS,
  BOOTSTRAP_DIAL_TIMEOUT_MS
} from './constants.js'
import type { ComponentLogger, Libp2pEvents, Logger, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface BootstrapDialerComponents {
  peerId: PeerId
  connectionManager: ConnectionManager
  events: TypedEventTarget<Libp2pEvents>
  /** The node's logger (libp2p passes its own); without one, lines carry no node tag. */
  logger?: ComponentLogger
}

export interface BootstrapDialerInit {
  /** Bootstrap multiaddrs, each with a /p2p/<peerId> suffix. */
  list: string[]
  initialBackoffMs?: number
  maxBackoffMs?: number
  dialTimeoutMs?: number
}

/**
 * Keeps this node connected to every configured bootstrap node. @libp2p/bootstrap dials each
 * address once; this service redials any bootstrap peer that is not connected, with exponential
 * backoff and jitter, for as long as the node runs, so start order does not matter and a restarted
 * bootstrap node is reconnected as soon as it is back.
 */
export class BootstrapDialer implements Startable {
  readonly #components: BootstrapDialerComponents
  readonly #targets: Array<{ peer: PeerId, addr: Multiaddr }>
  readonly #initialBackoff: number
  readonly #maxBackoff: number
  readonly #dialTimeout: number
  #controller?: AbortController
  readonly #wakers = new Map<string, () => void>()
  readonly #log: Logger

  constructor (components: BootstrapDialerComponents, init: BootstrapDialerInit) {
    this.#components = components
    this.#log = components.logger?.forComponent('shoal:net:bootstrap-dialer') ?? logger('shoal:net:bootstrap-dialer')
    this.#initialBackoff = init.initialBackoffMs ?? BOOTSTRAP_BACKOFF_INITIAL_MS
    this.#maxBackoff = init.maxBackoffMs ?? BOOTSTRAP_BACKOFF_MAX_MS
    this.#dialTimeout = init.dialTimeoutMs ?? BOOTSTRAP_DIAL_TIMEOUT_MS
    this.#targets = init.list.map(s => {
      const addr = multiaddr(s)
      const id = addr.getComponents().find(c => c.name === 'p2p')?.value
      if (id == null) throw new Error(`bootstrap address ${s} has no /p2p/ component`)
      return { peer: peerIdFromString(id), addr }
    }).filter(t => !t.peer.equals(components.peerId))
  }

  readonly [Symbol.toStringTag] = 'shoal/bootstrap-dialer'

  start (): void {
    this.#controller = new AbortController()
    this.#components.events.addEventListener('peer:disconnect', this.#onDisconnect)
  }

  // Dial only after every other service started, so the first dial finds the handlers registered.
  afterStart (): void {
    const signal = this.#controller?.signal
    if (signal == null) return
    for (const target of this.#targets) {
      this.#keepConnected(target.peer, target.addr, signal).catch(err => {
        if (!signal.aborted) this.#log.error('bootstrap loop for %p ended: %e', target.peer, err)
      })
    }
  }

  stop (): void {
    this.#components.events.removeEventListener('peer:disconnect', this.#onDisconnect)
    this.#controller?.abort()
    this.#controller = undefined
    for (const wake of this.#wakers.values()) wake()
    this.#wakers.clear()
  }

  readonly #onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.#wakers.get(evt.detail.toString())?.()
  }

  async #keepConnected (peer: PeerId, addr: Multiaddr, signal: AbortSignal): Promise<void> {
    let backoff = this.#initialBackoff
    while (!signal.aborted) {
      if (this.#components.connectionManager.getConnections(peer).length > 0) {
        backoff = this.#initialBackoff
        await this.#waitForDisconnect(peer, signal)
        continue
      }
      try {
        await this.#components.connectionManager.openConnection(addr, {
          signal: AbortSignal.any([signal, AbortSignal.timeout(this.#dialTimeout)])
        })
        this.#log('connected to bootstrap peer %p', peer)
        backoff = this.#initialBackoff
        continue
      } catch (err) {
        if (signal.aborted) return
        this.#log('bootstrap dial to %a failed, retrying in ~%d ms: %s', addr, backoff, (err as Error).message)
      }
      const jitter = 1 + BOOTSTRAP_BACKOFF_JITTER * (2 * Math.random() - 1)
      await sleep(backoff * jitter, signal)
      backoff = Math.min(backoff * 2, this.#maxBackoff)
    }
  }

  async #waitForDisconnect (peer: PeerId, signal: AbortSignal): Promise<void> {
    const key = peer.toString()
    await new Promise<void>(resolve => {
      const done = (): void => {
        this.#wakers.delete(key)
        signal.removeEventListener('abort', done)
        resolve()
      }
      this.#wakers.set(key, done)
      signal.addEventListener('abort', done, { once: true })
      // The connection may have closed between our check and registering the waker.
      if (this.#components.connectionManager.getConnections(peer).length === 0) done()
    })
  }
}

/** libp2p service factory for BootstrapDialer. */
export function bootstrapDialer (init: BootstrapDialerInit): (components: BootstrapDialerComponents) => BootstrapDialer {
  return components => new BootstrapDialer(components, init)
}

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>(resolve => {
    const timer = setTimeout(done, ms)
    function done (): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
