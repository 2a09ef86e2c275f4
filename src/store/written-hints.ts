import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { defaultLogger } from '@libp2p/logger'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import { WRITTEN_HINTS_FILE } from './constants.js'
import { toStoreError } from './store-errors.js'

const RECORD_LENGTH = 4

/**
 * Indexes of chunks written to the output files but perhaps not yet committed to the journal,
 * appended without fsync: after a process kill they are still in the page cache, so the next open
 * knows which chunks are worth re-hashing instead of fetching again. Only hints: a chunk is kept
 * only if its bytes on disk match the manifest digest, so a torn or lost hint costs a re-fetch,
 * never a wrong chunk.
 */
export class WrittenHints {
  readonly path: string
  #handle: FileHandle
  #failed = false
  readonly #log: Logger

  private constructor (path: string, handle: FileHandle, log: Logger) {
    this.path = path
    this.#handle = handle
    this.#log = log
  }

  /** Opens (or creates) the hints file in `dir` and returns the distinct indexes below `limit` it lists. */
  static async open (dir: string, limit: number, options: { logger?: ComponentLogger } = {}): Promise<{ hints: WrittenHints, indexes: number[] }> {
    const path = join(dir, WRITTEN_HINTS_FILE)
    let handle: FileHandle
    let bytes: Uint8Array
    try {
      handle = await open(path, 'a+')
      bytes = await handle.readFile()
    } catch (err) {
      throw toStoreError(err, path, 'write')
    }
    const seen = new Set<number>()
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    for (let at = 0; at + RECORD_LENGTH <= bytes.length; at += RECORD_LENGTH) {
      const index = view.getUint32(at)
      if (index < limit) seen.add(index)
    }
    const log = (options.logger ?? defaultLogger()).forComponent('shoal:store:hints')
    return { hints: new WrittenHints(path, handle, log), indexes: [...seen] }
  }

  /** Notes that chunk `index` was written. Best effort: a failure only costs a re-fetch after a kill. */
  async record (index: number): Promise<void> {
    if (this.#failed) return
    const buf = new Uint8Array(RECORD_LENGTH)
    new DataView(buf.buffer).setUint32(0, index)
    try {
      await this.#handle.write(buf)
    } catch (err) {
      this.#failed = true
      this.#log('cannot append to %s (%s); chunks written before a kill will be fetched again', this.path, err)
    }
  }

  /** Forgets every hint (their chunks are journaled or re-checked). */
  async reset (): Promise<void> {
    try {
      await this.#handle.truncate(0)
      this.#failed = false
    } catch (err) {
      this.#log('cannot truncate %s: %s', this.path, err)
    }
  }

  async close (): Promise<void> {
    await this.#handle.close()
  }
}
