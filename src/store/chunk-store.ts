import { createHash } from 'node:crypto'
import { constants as fsConstants } from 'node:fs'
import { mkdir, open, stat } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { resolve, sep } from 'node:path'
import { logger } from '@libp2p/logger'
import { Bitfield } from '../util/bitfield.js'
import { ShoalError } from '../util/shoal-error.js'
import { ChunkMap } from './chunk-map.js'
import { FLUSH_EVERY_CHUNKS, FLUSH_INTERVAL_MS, MAX_OPEN_FILES } from './constants.js'
import { readFully, writeFully } from './file-io.js'
import { HandleCache } from './handle-cache.js'
import { HaveJournal } from './have-journal.js'
import { openCheckedFile, prepareOutputTree } from './output-tree.js'
import { WrittenHints } from './written-hints.js'
import type { FileIdentity } from './created-files.js'
import { resolveInside } from './safe-path.js'
import { loadSeedStamps, saveSeedStamps, stampDifference, stampOf, statSource } from './seed-sources.js'
import type { SourceStamp } from './seed-sources.js'
import { StoreErrorCode, toStoreError } from './store-errors.js'
import type { StoreLayout } from './layout.js'

const log = logger('shoal:store')

/** `download` writes into an output folder; `seed` serves existing files in place and never writes them. */
export type StoreMode = 'download' | 'seed'

export interface ChunkStoreOptions {
  layout: StoreLayout
  /**
   * download: the output folder (created if missing). seed: the existing directory holding the
   * layout's files, or, for a single-file layout, the file itself.
   */
  root: string
  /**
   * download: the folder the user chose, `root` or a parent of it. It may be a symlink (the user's
   * choice); nothing at or below `root` may be, and nothing is ever written through one. Default: `root`.
   */
  base?: string
  /** download: replace existing regular files shoal did not create. Default false: refuse with ERR_ALREADY_EXISTS. */
  overwrite?: boolean
  /** Folder for this content's persisted state (have journal/snapshot, seed stamps). Created if missing. */
  stateDir: string
  mode: StoreMode
  /** Longest time a written chunk waits before being made durable and journaled. */
  flushIntervalMs?: number
  /** Flush early once this many written chunks wait. */
  flushEveryChunks?: number
  /** Bound on open file handles. */
  maxOpenFiles?: number
  /** Re-hash every chunk read before returning it. Default: true in seed mode, false in download mode. */
  verifyReads?: boolean
}

export interface ChunkWriteOptions {
  /** The caller verified `data` against this layout's digest for `index` already. */
  verified?: boolean
}

/**
 * Chunks of one content on disk. In download mode verified chunks are written to their place in the
 * output files, and the set of held chunks survives restarts: a chunk is recorded as held only after
 * its data is durable (group commit: fdatasync the touched files, then append to the journal). In
 * seed mode existing files are served in place and a file that changes stops being served.
 */
export class ChunkStore {
  readonly mode: StoreMode
  readonly layout: StoreLayout
  readonly root: string
  readonly stateDir: string
  /** Chunks held (readable) now. Owned by the store: read it, never modify it. */
  readonly have: Bitfield
  /**
   * Chunks whose data is durable and whose journal record is on disk: what a restart after a kill
   * still holds. A subset of `have`; equal to it after a flush. Read it, never modify it.
   */
  readonly durable: Bitfield

  readonly #map: ChunkMap
  readonly #paths: string[]
  readonly #handles: HandleCache
  readonly #journal: HaveJournal | undefined
  readonly #flushIntervalMs: number
  readonly #flushEveryChunks: number
  readonly #verifyReads: boolean
  /** Seed mode: the stamp each file had when first shared. */
  readonly #stamps: SourceStamp[]
  /** Seed mode: files that changed, with what changed; their chunks are no longer held. */
  readonly #changed = new Map<number, string>()

  /** Held in memory, data written but not yet durable nor journaled. */
  #pending: number[] = []
  /** Files written since the last flush began. */
  #dirty = new Set<number>()
  /** Files whose fdatasync failed when their handle was evicted; their unflushed chunks are lost. */
  #syncFailures = new Map<number, unknown>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #flushChain: Promise<void> = Promise.resolve()
  #queuedFlush: Promise<void> | undefined
  #backgroundError: unknown
  #needsCompaction = false
  readonly #inflight = new Set<Promise<unknown>>()
  readonly #commitListeners = new Set<(durable: number) => void>()
  /** Download mode: the inode each output file was checked to be when the store opened. */
  readonly #identities: FileIdentity[]
  /** Download mode: which chunks were written, so a restart after a kill re-hashes instead of re-fetching them. */
  readonly #hints: WrittenHints | undefined
  #closed: Promise<void> | undefined

  private constructor (init: {
    options: ChunkStoreOptions
    map: ChunkMap
    paths: string[]
    have: Bitfield
    journal?: HaveJournal
    stamps?: SourceStamp[]
    identities?: FileIdentity[]
    hints?: WrittenHints
  }) {
    const { options } = init
    this.mode = options.mode
    this.layout = options.layout
    this.root = resolve(options.root)
    this.stateDir = resolve(options.stateDir)
    this.have = init.have
    this.durable = init.have.clone()
    this.#identities = init.identities ?? []
    this.#hints = init.hints
    this.#map = init.map
    this.#paths = init.paths
    this.#journal = init.journal
    this.#stamps = init.stamps ?? []
    this.#flushIntervalMs = options.flushIntervalMs ?? FLUSH_INTERVAL_MS
    this.#flushEveryChunks = options.flushEveryChunks ?? FLUSH_EVERY_CHUNKS
    this.#verifyReads = options.verifyReads ?? options.mode === 'seed'
    const writable = options.mode === 'download'
    this.#handles = new HandleCache({
      max: options.maxOpenFiles ?? MAX_OPEN_FILES,
      open: async (fileIndex) => {
        const path = this.#paths[fileIndex]!
        try {
          return writable ? await openCheckedFile(path, this.#identities[fileIndex]!) : await open(path, fsConstants.O_RDONLY)
        } catch (err) {
          throw toStoreError(err, path, writable ? 'write' : 'read')
        }
      },
      beforeClose: writable ? async (fileIndex, handle) => await this.#syncBeforeClose(fileIndex, handle) : undefined
    })
  }

  /** Opens the store: creates the output tree (download) or checks the sources (seed), and loads state. */
  static async open (options: ChunkStoreOptions): Promise<ChunkStore> {
    const map = new ChunkMap(options.layout)
    const stateDir = resolve(options.stateDir)
    try {
      await mkdir(stateDir, { recursive: true })
    } catch (err) {
      throw toStoreError(err, stateDir, 'write')
    }
    return options.mode === 'seed'
      ? await ChunkStore.#openSeed(options, map, stateDir)
      : await ChunkStore.#openDownload(options, map, stateDir)
  }

  static async #openDownload (options: ChunkStoreOptions, map: ChunkMap, stateDir: string): Promise<ChunkStore> {
    const root = resolve(options.root)
    const base = resolve(options.base ?? root)
    if (root !== base && !root.startsWith(base.endsWith(sep) ? base : base + sep)) {
      throw new ShoalError(StoreErrorCode.UNSAFE_PATH, `the store root ${root} is not inside the output folder ${base}`)
    }
    const { files, directories } = options.layout
    const paths = files.map(file => resolveInside(root, file.path))
    // Files created now, resized or taken over cannot hold chunks the journal may claim.
    const { fresh, identities } = await prepareOutputTree({
      base,
      root,
      files: paths.map((path, i) => ({ path, size: files[i]!.size })),
      directories: directories.map(dir => resolveInside(root, dir)),
      stateDir,
      fingerprint: Buffer.from(map.fingerprint).toString('hex'),
      overwrite: options.overwrite === true
    })

    const { journal, have } = await HaveJournal.open(stateDir, map.fingerprint, map.chunkCount)
    let cleared = 0
    for (const fileIndex of fresh) {
      const [first, end] = map.chunksOf(fileIndex)
      for (let i = first; i < end; i++) if (have.clear(i)) cleared++
    }
    if (cleared > 0) {
      log('%d chunks recorded as held are in files that were missing or resized; fetching them again', cleared)
      try {
        await journal.compact(have)
      } catch (err) {
        await journal.close()
        throw err
      }
    }
    let hints: WrittenHints
    try {
      const opened = await WrittenHints.open(stateDir, map.chunkCount)
      hints = opened.hints
      const freshFiles = new Set(fresh)
      const candidates = opened.indexes.filter(i => !have.has(i) && !freshFiles.has(map.locate(i).fileIndex))
      if (candidates.length > 0) {
        const started = performance.now()
        const kept = await rehashWritten(map, paths, identities, candidates)
        await journal.append(kept)
        for (const index of kept) have.set(index)
        log('re-hashed %d chunks written but not committed before the last stop: kept %d in %d ms',
          candidates.length, kept.length, Math.round(performance.now() - started))
      }
      await hints.reset()
    } catch (err) {
      await journal.close()
      throw err
    }
    log('opened %s for download: %d of %d chunks held', root, have.count, map.chunkCount)
    return new ChunkStore({ options, map, paths, have, journal, identities, hints })
  }

  static async #openSeed (options: ChunkStoreOptions, map: ChunkMap, stateDir: string): Promise<ChunkStore> {
    const root = resolve(options.root)
    const { files } = options.layout
    let rootStats
    try {
      rootStats = await stat(root)
    } catch (err) {
      throw toStoreError(err, root, 'read')
    }
    let paths: string[]
    if (rootStats.isFile()) {
      // A single file is seeded under its own path, whatever its name in the layout.
      if (files.length !== 1 || /[/\\]/.test(files[0]!.path)) {
        throw new ShoalError(StoreErrorCode.UNREADABLE,
          `cannot seed ${root}: it is a single file but the content has ${files.length} files; give the folder holding them`)
      }
      paths = [root]
    } else if (rootStats.isDirectory()) {
      paths = files.map(file => resolveInside(root, file.path))
    } else {
      throw new ShoalError(StoreErrorCode.UNREADABLE, `cannot seed ${root}: it is neither a regular file nor a directory`)
    }

    const current: SourceStamp[] = []
    for (const path of paths) current.push(await statSource(path))
    const fingerprint = Buffer.from(map.fingerprint).toString('hex')
    const recorded = await loadSeedStamps(stateDir, fingerprint, paths)
    // Keep the stamps recorded first: a file changed while shoal was stopped must stay changed.
    const stamps = recorded ?? current
    const have = new Bitfield(map.chunkCount)
    have.setAll()
    const changed = new Map<number, string>()
    for (const [i, file] of files.entries()) {
      const reason = (recorded !== undefined ? stampDifference(recorded[i]!, current[i]!) : undefined) ??
        (current[i]!.size !== file.size ? `size is ${current[i]!.size} bytes, the content says ${file.size}` : undefined)
      if (reason === undefined) continue
      changed.set(i, reason)
      const [first, end] = map.chunksOf(i)
      for (let c = first; c < end; c++) have.clear(c)
      log('%s changed since it was shared (%s); not serving it', paths[i], reason)
    }
    if (recorded === undefined) await saveSeedStamps(stateDir, fingerprint, paths, stamps)
    const store = new ChunkStore({ options, map, paths, have, stamps })
    for (const [i, reason] of changed) store.#changed.set(i, reason)
    log('opened %s for seeding: %d of %d chunks served', root, have.count, map.chunkCount)
    return store
  }

  /** Number of chunks in the layout. */
  get chunkCount (): number {
    return this.#map.chunkCount
  }

  /** True when every chunk is held. */
  get complete (): boolean {
    return this.have.complete
  }

  /** Relative paths (as in the layout) of seeded files that changed and are no longer served. */
  get changedFiles (): string[] {
    return [...this.#changed.keys()].map(i => this.layout.files[i]!.path)
  }

  /** True when chunk `index` is held. */
  has (index: number): boolean {
    return this.have.has(index)
  }

  /** Byte length of chunk `index`. */
  chunkLength (index: number): number {
    return this.#map.locate(index).length
  }

  /** Absolute path on disk of the layout's file number `fileIndex`. */
  pathOf (fileIndex: number): string {
    const path = this.#paths[fileIndex]
    if (path === undefined) throw new ShoalError(StoreErrorCode.BAD_INDEX, `file index ${fileIndex} is outside 0..${this.#paths.length - 1}`)
    return path
  }

  /**
   * Verifies `data` against the layout and writes it as chunk `index`. Returns true when the chunk
   * was newly stored, false when it was already held. The chunk is readable as soon as this
   * resolves; it is recorded as held on disk at the next flush.
   *
   * `options.verified` skips the SHA-256 here for a caller that has just checked this very buffer
   * against the same layout's digest (the swarm session does, to know whom to ban): hashing every
   * received byte twice cost about a sixth of a fast download's CPU. The length is still checked.
   */
  async write (index: number, data: Uint8Array, options: ChunkWriteOptions = {}): Promise<boolean> {
    this.#checkOpen()
    this.#throwBackgroundError()
    const loc = this.#map.locate(index)
    if (data.length !== loc.length) {
      throw new ShoalError(StoreErrorCode.CHUNK_MISMATCH, `chunk ${index} must be ${loc.length} bytes, got ${data.length}`)
    }
    if (options.verified !== true && !equalBytes(sha256(data), this.#map.digest(index))) {
      throw new ShoalError(StoreErrorCode.CHUNK_MISMATCH, `chunk ${index} does not match its digest; discard its source`)
    }
    if (this.have.has(index)) return false
    if (this.mode === 'seed') throw this.#changedError(loc.fileIndex)
    const path = this.#paths[loc.fileIndex]!
    const job = this.#handles.use(loc.fileIndex, async handle => {
      await writeFully(handle, data, loc.offset)
      await this.#hints?.record(index)
    })
    this.#inflight.add(job)
    try {
      await job
    } catch (err) {
      throw toStoreError(err, path, 'write')
    } finally {
      this.#inflight.delete(job)
    }
    this.#dirty.add(loc.fileIndex)
    if (!this.have.set(index)) return false
    this.#pending.push(index)
    this.#scheduleFlush()
    return true
  }

  /** Reads held chunk `index`. In seed mode throws ERR_SOURCE_CHANGED once its file has changed. */
  async read (index: number): Promise<Uint8Array> {
    this.#checkOpen()
    const loc = this.#map.locate(index)
    if (!this.have.has(index)) {
      if (this.#changed.has(loc.fileIndex)) throw this.#changedError(loc.fileIndex)
      throw new ShoalError(StoreErrorCode.NOT_HELD, `chunk ${index} is not held`)
    }
    const path = this.#paths[loc.fileIndex]!
    const job = this.#handles.use(loc.fileIndex, async handle => {
      if (this.mode === 'seed') await this.#checkSource(loc.fileIndex, handle)
      return await readFully(handle, loc.length, loc.offset)
    })
    this.#inflight.add(job)
    let data: Uint8Array
    try {
      data = await job
    } catch (err) {
      throw toStoreError(err, path, 'read')
    } finally {
      this.#inflight.delete(job)
    }
    if (data.length !== loc.length || (this.#verifyReads && !equalBytes(sha256(data), this.#map.digest(index)))) {
      if (this.mode === 'seed') {
        this.#markChanged(loc.fileIndex, data.length !== loc.length ? 'it is shorter than shared' : 'its bytes no longer match')
        throw this.#changedError(loc.fileIndex)
      }
      // An output file altered behind our back: forget the chunk so it is fetched again.
      this.durable.clear(index)
      if (this.have.clear(index)) this.#needsCompaction = true
      throw new ShoalError(StoreErrorCode.SOURCE_CHANGED, `chunk ${index} in ${path} was altered on disk; it will be fetched again`)
    }
    return data
  }

  /**
   * Calls `listener` with the durable chunk count after each group commit that made chunks durable.
   * Returns a function that removes it.
   */
  onCommit (listener: (durable: number) => void): () => void {
    this.#commitListeners.add(listener)
    return () => { this.#commitListeners.delete(listener) }
  }

  #notifyCommit (): void {
    const count = this.durable.count
    for (const listener of this.#commitListeners) {
      try {
        listener(count)
      } catch (err) {
        log.error('commit listener of %s failed: %s', this.root, err)
      }
    }
  }

  /** Makes every chunk written so far durable and records it as held. */
  async flush (): Promise<void> {
    if (this.#queuedFlush !== undefined) return await this.#queuedFlush
    const run = this.#flushChain.then(async () => {
      this.#queuedFlush = undefined
      await this.#flushOnce()
    })
    this.#queuedFlush = run
    this.#flushChain = run.catch(() => {})
    await run
  }

  /** Waits for writes in progress, then flushes: afterwards every chunk in `have` so far is durable. */
  async drain (): Promise<void> {
    await Promise.allSettled([...this.#inflight])
    await this.flush()
  }

  /** Waits for writes in progress, flushes, and closes every file. Safe to call more than once. */
  async close (): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#timer !== undefined) clearTimeout(this.#timer)
      this.#timer = undefined
      await Promise.allSettled([...this.#inflight])
      let error: unknown
      try {
        await this.flush()
        if (this.#journal !== undefined && (this.#journal.records > 0 || this.#needsCompaction)) {
          await this.#journal.compact(this.#durableHave())
        }
        // everything written is journaled now; a failed flush keeps the hints for the next open
        await this.#hints?.reset()
      } catch (err) {
        error = err
      }
      await this.#hints?.close().catch(() => {})
      await this.#handles.closeAll()
      await this.#journal?.close().catch(() => {})
      log('closed %s', this.root)
      if (error !== undefined) throw error
    })()
    await this.#closed
  }

  async #flushOnce (): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    const journal = this.#journal
    if (journal === undefined) return
    // Only writes that completed before this point are covered: their data is in the files synced below.
    const batch = this.#pending
    const files = this.#dirty
    this.#pending = []
    this.#dirty = new Set()

    const failed = new Map<number, unknown>()
    for (const [fileIndex, err] of this.#syncFailures) failed.set(fileIndex, err)
    this.#syncFailures.clear()
    await Promise.all([...files].map(async fileIndex => {
      if (failed.has(fileIndex)) return
      try {
        await this.#handles.use(fileIndex, async handle => { await handle.datasync() })
      } catch (err) {
        failed.set(fileIndex, err)
      }
    }))

    let durable = batch
    if (failed.size > 0) {
      // After a failed fdatasync the kernel may have dropped the data: those chunks must be fetched again.
      durable = []
      for (const index of batch) {
        if (failed.has(this.#map.locate(index).fileIndex)) this.have.clear(index)
        else durable.push(index)
      }
      log('fdatasync failed for %d files; %d chunks dropped', failed.size, batch.length - durable.length)
    }

    try {
      await journal.append(durable)
      for (const index of durable) this.durable.set(index)
      if (journal.wantsCompaction || this.#needsCompaction) {
        await journal.compact(this.#durableHave())
        this.#needsCompaction = false
      }
    } catch (err) {
      // The data is durable; only the record failed. Keep the chunks and record them next time.
      this.#pending = durable.concat(this.#pending)
      throw err
    }
    if (durable.length > 0) this.#notifyCommit()
    if (failed.size > 0) {
      const [fileIndex, err] = failed.entries().next().value!
      throw toStoreError(err, this.#paths[fileIndex]!, 'write')
    }
  }

  /** The have-set without chunks whose data is not yet durable (what a snapshot may claim). */
  #durableHave (): Bitfield {
    const durable = this.have.clone()
    for (const index of this.#pending) durable.clear(index)
    return durable
  }

  #scheduleFlush (): void {
    if (this.#pending.length >= this.#flushEveryChunks) {
      this.#backgroundFlush()
      return
    }
    if (this.#timer !== undefined) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#backgroundFlush()
    }, this.#flushIntervalMs)
    this.#timer.unref?.()
  }

  #backgroundFlush (): void {
    if (this.#closed !== undefined) return
    this.flush().catch(err => {
      log.error('background flush of %s failed: %s', this.root, err)
      this.#backgroundError = err
    })
  }

  #throwBackgroundError (): void {
    const err = this.#backgroundError
    if (err === undefined) return
    this.#backgroundError = undefined
    throw err
  }

  async #syncBeforeClose (fileIndex: number, handle: FileHandle): Promise<void> {
    if (!this.#dirty.has(fileIndex)) return
    try {
      await handle.datasync()
    } catch (err) {
      this.#syncFailures.set(fileIndex, err)
    }
  }

  async #checkSource (fileIndex: number, handle: FileHandle): Promise<void> {
    const reason = stampDifference(this.#stamps[fileIndex]!, stampOf(await handle.stat()))
    if (reason === undefined) return
    this.#markChanged(fileIndex, reason)
    throw this.#changedError(fileIndex)
  }

  #markChanged (fileIndex: number, reason: string): void {
    if (this.#changed.has(fileIndex)) return
    this.#changed.set(fileIndex, reason)
    const [first, end] = this.#map.chunksOf(fileIndex)
    for (let i = first; i < end; i++) {
      this.have.clear(i)
      this.durable.clear(i)
    }
    this.#handles.drop(fileIndex)
    log('%s changed while being seeded (%s); no longer serving it', this.#paths[fileIndex], reason)
  }

  #changedError (fileIndex: number): ShoalError {
    const reason = this.#changed.get(fileIndex) ?? 'it is not served'
    return new ShoalError(StoreErrorCode.SOURCE_CHANGED,
      `${this.#paths[fileIndex]} changed since it was shared (${reason}); its chunks are no longer served — publish it again to share the new content`)
  }

  #checkOpen (): void {
    if (this.#closed !== undefined) throw new ShoalError(StoreErrorCode.STORE_CLOSED, `the store of ${this.root} is closed`)
  }
}

/**
 * Reads and hashes chunks that were written but not journaled when the store last stopped; returns
 * those whose bytes match the layout, after making their files durable (so they may be journaled).
 */
async function rehashWritten (map: ChunkMap, paths: string[], identities: FileIdentity[], indexes: number[]): Promise<number[]> {
  const byFile = new Map<number, number[]>()
  for (const index of indexes) {
    const { fileIndex } = map.locate(index)
    byFile.set(fileIndex, [...(byFile.get(fileIndex) ?? []), index])
  }
  const kept: number[] = []
  for (const [fileIndex, chunks] of byFile) {
    const path = paths[fileIndex]!
    let handle: FileHandle
    try {
      handle = await openCheckedFile(path, identities[fileIndex]!)
    } catch (err) {
      throw toStoreError(err, path, 'write')
    }
    try {
      const good: number[] = []
      for (const index of chunks.sort((a, b) => a - b)) {
        const loc = map.locate(index)
        const data = await readFully(handle, loc.length, loc.offset)
        if (data.length === loc.length && equalBytes(sha256(data), map.digest(index))) good.push(index)
      }
      // the bytes may be only in the page cache after a kill: durable before they are journaled
      if (good.length > 0) await handle.datasync()
      kept.push(...good)
    } catch (err) {
      throw toStoreError(err, path, 'write')
    } finally {
      await handle.close()
    }
  }
  return kept
}

function sha256 (data: Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest()
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
