import { constants as fsConstants } from 'node:fs'
import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import type { ComponentLogger } from '@libp2p/interface'
import { ShoalError } from '../util/shoal-error.js'
import type { FileIdentity } from './created-files.js'
import { readFully, writeFully } from './file-io.js'
import { HandleCache } from './handle-cache.js'
import { openCheckedFile } from './output-tree.js'
import { StoreErrorCode, toStoreError } from './store-errors.js'

/** The files of one store and how to open them. */
export interface ChunkFilesInit {
  /** Absolute path of each layout file. */
  paths: string[]
  /**
   * Download: the inode each output file was checked to be; files are opened read-write and only
   * if they still are that inode. Absent (seed): files are opened read-only.
   */
  identities?: FileIdentity[]
  maxOpenFiles: number
  /** Runs before an idle handle of a writable file is closed (to make its writes durable). */
  beforeClose?: (fileIndex: number, handle: FileHandle) => Promise<void>
  logger?: ComponentLogger
}

/**
 * Positional reads and writes on a store's files through a bounded set of open handles. Every
 * failure becomes a store error naming the file; operations in progress are tracked so a flush or a
 * close can wait for them.
 */
export class ChunkFiles {
  readonly #paths: string[]
  readonly #handles: HandleCache
  readonly #inflight = new Set<Promise<unknown>>()

  constructor (init: ChunkFilesInit) {
    const { paths, identities } = init
    this.#paths = paths
    this.#handles = new HandleCache({
      max: init.maxOpenFiles,
      logger: init.logger,
      open: async (fileIndex) => {
        const path = paths[fileIndex]!
        try {
          return identities !== undefined ? await openCheckedFile(path, identities[fileIndex]!) : await open(path, fsConstants.O_RDONLY)
        } catch (err) {
          throw toStoreError(err, path, identities !== undefined ? 'write' : 'read')
        }
      },
      beforeClose: identities !== undefined ? init.beforeClose : undefined
    })
  }

  /** Absolute path of file `fileIndex`. */
  pathOf (fileIndex: number): string {
    const path = this.#paths[fileIndex]
    if (path === undefined) throw new ShoalError(StoreErrorCode.BAD_INDEX, `file index ${fileIndex} is outside 0..${this.#paths.length - 1}`)
    return path
  }

  /** Writes `data` at `offset` of file `fileIndex`, then runs `after` while the handle is still held. */
  async write (fileIndex: number, offset: number, data: Uint8Array, after?: () => Promise<void>): Promise<void> {
    await this.#track(fileIndex, 'write', async handle => {
      await writeFully(handle, data, offset)
      await after?.()
    })
  }

  /**
   * Reads `length` bytes at `offset` of file `fileIndex` (fewer when the file is shorter), after
   * `before` has checked the open handle.
   */
  async read (fileIndex: number, offset: number, length: number, before?: (handle: FileHandle) => Promise<void>): Promise<Uint8Array> {
    return await this.#track(fileIndex, 'read', async handle => {
      await before?.(handle)
      return await readFully(handle, length, offset)
    })
  }

  /** fdatasync of file `fileIndex`; the raw error on failure, for the caller to judge. */
  async sync (fileIndex: number): Promise<void> {
    await this.#handles.use(fileIndex, async handle => { await handle.datasync() })
  }

  /** Closes file `fileIndex`'s handle once idle (e.g. after the file changed under us). */
  drop (fileIndex: number): void {
    this.#handles.drop(fileIndex)
  }

  /** Waits until every read and write in progress has settled. */
  async settle (): Promise<void> {
    await Promise.allSettled([...this.#inflight])
  }

  /** Closes every handle. */
  async close (): Promise<void> {
    await this.#handles.closeAll()
  }

  async #track<T> (fileIndex: number, action: 'read' | 'write', fn: (handle: FileHandle) => Promise<T>): Promise<T> {
    const job = this.#handles.use(fileIndex, fn)
    this.#inflight.add(job)
    try {
      return await job
    } catch (err) {
      throw toStoreError(err, this.pathOf(fileIndex), action)
    } finally {
      this.#inflight.delete(job)
    }
  }
}
