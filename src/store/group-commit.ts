import type { FileHandle } from 'node:fs/promises'
import type { Logger } from '@libp2p/interface'
import type { ChunkLayout } from '../content/index.js'
import type { Bitfield } from '../util/bitfield.js'
import type { ChunkFiles } from './chunk-files.js'
import type { HaveJournal } from './have-journal.js'
import { toStoreError } from './store-errors.js'

/** What a group commit records and where it reads the files from. */
export interface GroupCommitInit {
  journal: HaveJournal
  /** Chunks held now; chunks whose fdatasync failed are cleared from it. */
  have: Bitfield
  /** Chunks whose data is durable and journaled; the commit sets them. */
  durable: Bitfield
  chunks: ChunkLayout
  files: ChunkFiles
  /** Longest time a written chunk waits for its commit. */
  flushIntervalMs: number
  /** Commit early once this many written chunks wait. */
  flushEveryChunks: number
  /** Names the store in log lines. */
  name: string
  log: Logger
}

/**
 * Makes written chunks durable in groups: one commit fdatasyncs every file written since the last
 * one, then appends the chunks' records to the journal, so a chunk is recorded held only after its
 * data is on disk and one sync covers many chunks. Commits run one at a time; a flush asked for
 * while one runs joins the next.
 */
export class GroupCommit {
  readonly #init: GroupCommitInit
  /** Held in memory, data written but not yet durable nor journaled. */
  #pending: number[] = []
  /** Files written since the last commit began. */
  #dirty = new Set<number>()
  /** Files whose fdatasync failed when their handle was evicted; their unflushed chunks are lost. */
  #syncFailures = new Map<number, unknown>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #chain: Promise<void> = Promise.resolve()
  #queued: Promise<void> | undefined
  #backgroundError: unknown
  #needsCompaction = false
  #stopped = false
  readonly #listeners = new Set<(durable: number) => void>()

  constructor (init: GroupCommitInit) {
    this.#init = init
  }

  /** Notes that file `fileIndex` was written to: the next commit syncs it. */
  touched (fileIndex: number): void {
    this.#dirty.add(fileIndex)
  }

  /** Queues newly held chunk `index` (its data written) for the next commit. */
  add (index: number): void {
    this.#pending.push(index)
    this.#schedule()
  }

  /** A held chunk turned out wrong on disk: it is no longer held, and the next commit's snapshot forgets it. */
  forget (index: number): void {
    this.#init.durable.clear(index)
    if (this.#init.have.clear(index)) this.#needsCompaction = true
  }

  /** Calls `listener` with the durable count after each commit that made chunks durable; returns its remover. */
  onCommit (listener: (durable: number) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  /** Commits every chunk written so far. */
  async flush (): Promise<void> {
    if (this.#queued !== undefined) return await this.#queued
    const run = this.#chain.then(async () => {
      this.#queued = undefined
      await this.#commit()
    })
    this.#queued = run
    this.#chain = run.catch(() => {})
    await run
  }

  /** Rethrows (once) the error of a commit that ran in the background. */
  throwBackgroundError (): void {
    const err = this.#backgroundError
    if (err === undefined) return
    this.#backgroundError = undefined
    throw err
  }

  /** Hook for the handle cache: an evicted handle of a written file is synced before it is closed. */
  async beforeClose (fileIndex: number, handle: FileHandle): Promise<void> {
    if (!this.#dirty.has(fileIndex)) return
    try {
      await handle.datasync()
    } catch (err) {
      this.#syncFailures.set(fileIndex, err)
    }
  }

  /** Stops timed and early commits; the store is closing. */
  stop (): void {
    this.#stopped = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** The last commit, then the journal folded into a snapshot when it holds anything. */
  async finish (): Promise<void> {
    await this.flush()
    const { journal } = this.#init
    if (journal.records > 0 || this.#needsCompaction) await journal.compact(this.#durableHave())
  }

  async closeJournal (): Promise<void> {
    await this.#init.journal.close().catch(() => {})
  }

  async #commit (): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    const { journal, have, files, chunks, log } = this.#init
    // Only writes that completed before this point are covered: their data is in the files synced below.
    // A chunk forgotten since its write (found altered on disk) is not held: recording it would bring it back.
    const batch = this.#pending.filter(index => have.has(index))
    const dirty = this.#dirty
    this.#pending = []
    this.#dirty = new Set()

    const failed = new Map<number, unknown>(this.#syncFailures)
    this.#syncFailures.clear()
    await Promise.all([...dirty].map(async fileIndex => {
      if (failed.has(fileIndex)) return
      try {
        await files.sync(fileIndex)
      } catch (err) {
        failed.set(fileIndex, err)
      }
    }))

    let durable = batch
    if (failed.size > 0) {
      // After a failed fdatasync the kernel may have dropped the data: those chunks must be fetched again.
      durable = []
      for (const index of batch) {
        if (failed.has(chunks.chunk(index).fileIndex)) have.clear(index)
        else durable.push(index)
      }
      log('fdatasync failed for %d files; %d chunks dropped', failed.size, batch.length - durable.length)
    }

    try {
      await journal.append(durable)
      for (const index of durable) this.#init.durable.set(index)
      if (journal.wantsCompaction || this.#needsCompaction) {
        await journal.compact(this.#durableHave())
        this.#needsCompaction = false
      }
    } catch (err) {
      // The data is durable; only the record failed. Keep the chunks and record them next time.
      this.#pending = durable.concat(this.#pending)
      throw err
    }
    if (durable.length > 0) this.#notify()
    if (failed.size > 0) {
      const [fileIndex, err] = failed.entries().next().value!
      throw toStoreError(err, files.pathOf(fileIndex), 'write')
    }
  }

  /** The have-set without chunks whose data is not yet durable (what a snapshot may claim). */
  #durableHave (): Bitfield {
    const durable = this.#init.have.clone()
    for (const index of this.#pending) durable.clear(index)
    return durable
  }

  #notify (): void {
    const count = this.#init.durable.count
    for (const listener of this.#listeners) {
      try {
        listener(count)
      } catch (err) {
        this.#init.log.error('commit listener of %s failed: %s', this.#init.name, err)
      }
    }
  }

  #schedule (): void {
    if (this.#pending.length >= this.#init.flushEveryChunks) {
      this.#background()
      return
    }
    if (this.#timer !== undefined) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#background()
    }, this.#init.flushIntervalMs)
    this.#timer.unref?.()
  }

  #background (): void {
    if (this.#stopped) return
    this.flush().catch(err => {
      this.#init.log.error('background flush of %s failed: %s', this.#init.name, err)
      this.#backgroundError = err
    })
  }
}
