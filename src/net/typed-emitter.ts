import { logger } from '@libp2p/logger'

const log = logger('shoal:net:events')

/** A minimal typed event emitter: listeners get the event's detail directly. */
export class TypedEmitter<Events extends Record<string, unknown>> {
  readonly #listeners = new Map<keyof Events, Set<(detail: never) => void>>()

  /** Registers `listener` for `type`; returns a function that removes it. */
  on<K extends keyof Events> (type: K, listener: (detail: Events[K]) => void): () => void {
    let set = this.#listeners.get(type)
    if (set === undefined) {
      set = new Set()
      this.#listeners.set(type, set)
    }
    set.add(listener as (detail: never) => void)
    return () => this.off(type, listener)
  }

  off<K extends keyof Events> (type: K, listener: (detail: Events[K]) => void): void {
    this.#listeners.get(type)?.delete(listener as (detail: never) => void)
  }

  /** Calls every listener of `type`; a throwing listener does not stop the others. */
  protected emit<K extends keyof Events> (type: K, detail: Events[K]): void {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) {
      try {
        (listener as (detail: Events[K]) => void)(detail)
      } catch (err) {
        log.error('%s listener threw: %e', String(type), err)
      }
    }
  }
}
