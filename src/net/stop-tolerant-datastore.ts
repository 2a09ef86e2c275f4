import { logger as defaultLogger } from '@libp2p/logger'
import { LevelDatastore } from 'datastore-level'
import type { AbortOptions, ComponentLogger, Logger } from '@libp2p/interface'

type Key = Parameters<LevelDatastore['put']>[0]
type Batch = ReturnType<LevelDatastore['batch']>

/**
 * The node's LevelDB datastore, whose writes cannot fail a stop. libp2p writes to the peer store
 * while it stops (identify unregistering its protocols patches our own peer record); on a full data
 * disk that write threw out of `libp2p.stop()` half-way, leaving listeners and connections open and
 * the CLI hanging after it had printed ERR_DISK_FULL. Nothing written during a stop is needed again
 * (the peer store is a cache), so from `stopping()` until the next open a failed write is logged and dropped.
 */
export class StopTolerantDatastore extends LevelDatastore {
  #stopping = false
  readonly #log: Logger

  /** `logger`: the node's, so a dropped write names the node; the process-wide one when absent. */
  constructor (path: string, logger?: ComponentLogger) {
    super(path)
    this.#log = logger?.forComponent('shoal:net:datastore') ?? defaultLogger('shoal:net:datastore')
  }

  /** From now until the next open(), write failures are logged instead of thrown. */
  stopping (): void {
    this.#stopping = true
  }

  override async open (): Promise<void> {
    this.#stopping = false
    await super.open()
  }

  override async put (key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    try {
      return await super.put(key, value, options)
    } catch (err) {
      this.#tolerate('put', err)
      return key
    }
  }

  override async delete (key: Key, options?: AbortOptions): Promise<void> {
    try {
      await super.delete(key, options)
    } catch (err) {
      this.#tolerate('delete', err)
    }
  }

  override batch (): Batch {
    const batch = super.batch()
    return {
      put: (key, value) => { batch.put(key, value) },
      delete: (key) => { batch.delete(key) },
      commit: async (options) => {
        try {
          await batch.commit(options)
        } catch (err) {
          this.#tolerate('batch', err)
        }
      }
    }
  }

  #tolerate (op: string, err: unknown): void {
    if (!this.#stopping) throw err
    this.#log.error('datastore %s failed while stopping; dropped - %e', op, err)
  }
}
