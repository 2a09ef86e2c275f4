import { logger as defaultLogger } from '@libp2p/logger'
import { MemoryDatastore } from 'datastore-core'
import { LevelDatastore } from 'datastore-level'
import type { AbortOptions, ComponentLogger, Logger } from '@libp2p/interface'

type Key = Parameters<LevelDatastore['put']>[0]
type Batch = ReturnType<LevelDatastore['batch']>
type Query = Parameters<LevelDatastore['query']>[0]
type KeyQuery = Parameters<LevelDatastore['queryKeys']>[0]

/**
 * The peer store's namespace (@libp2p/peer-store keeps every peer under `/peers/<id>`). It lives in
 * memory: the peer store merges a record into the datastore on every identify, address change and
 * protocol change, and those LevelDB reads and writes were ~5% of a receiver's CPU during a swarm
 * download. What a restart loses is a cache: addresses, protocols and keys of peers, relearned from
 * the bootstrap list, identify and the DHT within the first seconds. DHT records stay in LevelDB.
 */
const MEMORY_PREFIX = '/peers'

/**
 * The node's LevelDB datastore, whose writes cannot fail a stop, with the peer store's namespace
 * held in memory (see MEMORY_PREFIX). libp2p writes to the peer store while it stops (identify
 * unregistering its protocols patches our own peer record); on a full data disk that write threw out
 * of `libp2p.stop()` half-way, leaving listeners and connections open and the CLI hanging after it
 * had printed ERR_DISK_FULL. Nothing written during a stop is needed again, so from `stopping()`
 * until the next open a failed write is logged and dropped.
 */
export class StopTolerantDatastore extends LevelDatastore {
  #stopping = false
  readonly #log: Logger
  readonly #memory = new MemoryDatastore()

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
    if (inMemory(key)) return await this.#memory.put(key, value, options)
    try {
      return await super.put(key, value, options)
    } catch (err) {
      this.#tolerate('put', err)
      return key
    }
  }

  override async get (key: Key, options?: AbortOptions): Promise<Uint8Array> {
    return inMemory(key) ? await this.#memory.get(key, options) : await super.get(key, options)
  }

  override async has (key: Key, options?: AbortOptions): Promise<boolean> {
    return inMemory(key) ? await this.#memory.has(key, options) : await super.has(key, options)
  }

  override async delete (key: Key, options?: AbortOptions): Promise<void> {
    if (inMemory(key)) {
      await this.#memory.delete(key, options)
      return
    }
    try {
      await super.delete(key, options)
    } catch (err) {
      this.#tolerate('delete', err)
    }
  }

  override batch (): Batch {
    const batch = super.batch()
    const memory = this.#memory.batch()
    return {
      put: (key, value) => { if (inMemory(key)) memory.put(key, value); else batch.put(key, value) },
      delete: (key) => { if (inMemory(key)) memory.delete(key); else batch.delete(key) },
      commit: async (options) => {
        await memory.commit(options)
        try {
          await batch.commit(options)
        } catch (err) {
          this.#tolerate('batch', err)
        }
      }
    }
  }

  // A query names one namespace by its prefix (the peer store's is `/peers/`); one without a prefix
  // covering both (nobody in libp2p makes one) reads LevelDB only.
  override query (q: Query, options?: AbortOptions): ReturnType<LevelDatastore['query']> {
    return prefixInMemory(q.prefix) ? this.#memory.query(q, options) : super.query(q, options)
  }

  override queryKeys (q: KeyQuery, options?: AbortOptions): ReturnType<LevelDatastore['queryKeys']> {
    return prefixInMemory(q.prefix) ? this.#memory.queryKeys(q, options) : super.queryKeys(q, options)
  }

  #tolerate (op: string, err: unknown): void {
    if (!this.#stopping) throw err
    this.#log.error('datastore %s failed while stopping; dropped - %e', op, err)
  }
}

function inMemory (key: Key): boolean {
  const k = key.toString()
  return k === MEMORY_PREFIX || k.startsWith(`${MEMORY_PREFIX}/`)
}

function prefixInMemory (prefix: string | undefined): boolean {
  return prefix !== undefined && (prefix === MEMORY_PREFIX || prefix.startsWith(`${MEMORY_PREFIX}/`))
}
