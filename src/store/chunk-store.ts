import { mkdir } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { resolve } from 'node:path'
import { defaultLogger } from '@libp2p/logger'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import { ChunkLayout, verifyChunk } from '../content/index.js'
import type { ContentLayout } from '../content/index.js'
import { Bitfield } from '../util/bitfield.js'
import { ShoalError } from '../util/shoal-error.js'
import { checkLayout } from './check-layout.js'
import type { FileIdentity } from './created-files.js'
import { ChunkFiles } from './chunk-files.js'
import { FLUSH_EVERY_CHUNKS, FLUSH_INTERVAL_MS, MAX_OPEN_FILES } from './constants.js'
import { GroupCommit } from './group-commit.js'
import type { HaveJournal } from './have-journal.js'
import { layoutFingerprint } from './layout-fingerprint.js'
import { openDownload } from './open-download.js'
import { SeedSources } from './seed-sources.js'
import { StoreErrorCode, toStoreError } from './store-errors.js'
import type { WrittenHints } from './written-hints.js'

/** `download` writes into an output folder; `seed` serves existing files in place and never writes them. */
export type StoreMode = 'download' | 'seed'

export interface ChunkStoreOptions {
  layout: ContentLayout
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
  /**
   * Hash chunks read before returning them. Default: true in seed mode, false in download mode. In
   * download mode every read is hashed; in seed mode each chunk's first read is, and every read
   * checks its file's stamp (size, mtime, inode), which is what catches an edit after that.
   */
  verifyReads?: boolean
  /** Where the store logs (e.g. one node's prefixed logger). Default: the process-wide `shoal:store*` loggers. */
  logger?: ComponentLogger
}

export interface ChunkWriteOptions {
  /** The caller verified `data` against this layout's digest for `index` already. */
  verified?: boolean
}

/** What a store is composed of: `journal`, `identities` and `hints` in download mode, `sources` in seed mode. */
interface ChunkStoreParts {
  options: ChunkStoreOptions
  chunks: ChunkLayout
  have: Bitfield
  paths: string[]
  journal?: HaveJournal
  identities?: FileIdentity[]
  hints?: WrittenHints
  sources?: SeedSources
  log: Logger
}

/**
 * Chunks of one content on disk. In download mode verified chunks are written to their place in the
 * output files, and the set of held chunks survives restarts: a chunk is recorded as held only after
 * its data is durable (GroupCommit: fdatasync the touched files, then append to the journal). In
 * seed mode existing files are served in place (SeedSources) and a file that changes stops being served.
 */
export class ChunkStore {
  readonly mode: StoreMode
  readonly layout: ContentLayout
  readonly root: string
  readonly stateDir: string
  /** Chunks held (readable) now. Owned by the store: read it, never modify it. */
  readonly have: Bitfield
  /**
   * Chunks whose data is durable and whose journal record is on disk: what a restart after a kill
   * still holds. A subset of `have`; equal to it after a flush. Read it, never modify it.
   */
  readonly durable: Bitfield

  readonly #chunks: ChunkLayout
  readonly #files: ChunkFiles
  /** Download mode only. */
  readonly #commit: GroupCommit | undefined
  /** Download mode: which chunks were written, so a restart after a kill re-hashes instead of re-fetching them. */
  readonly #hints: WrittenHints | undefined
  /** Seed mode only. */
  readonly #sources: SeedSources | undefined
  readonly #verifyReads: boolean
  /**
   * Seed mode: chunks whose bytes were hashed since the store opened. A seeder sends a chunk many
   * times over (every receiver that comes to it, the swarm's last resorts); re-hashing each copy cost
   * it ~0.7 CPU-s per GiB served here while the stamp check on every read stays.
   */
  readonly #hashed: Bitfield | undefined
  readonly #log: Logger
  #closed: Promise<void> | undefined

  private constructor (parts: ChunkStoreParts) {
    const { options } = parts
    this.mode = options.mode
    this.layout = options.layout
    this.root = resolve(options.root)
    this.stateDir = resolve(options.stateDir)
    this.have = parts.have
    this.durable = parts.have.clone()
    this.#chunks = parts.chunks
    this.#hints = parts.hints
    this.#sources = parts.sources
    this.#verifyReads = options.verifyReads ?? options.mode === 'seed'
    this.#hashed = parts.sources !== undefined && this.#verifyReads ? new Bitfield(parts.chunks.chunkCount) : undefined
    this.#log = parts.log
    let commit: GroupCommit | undefined
    this.#files = new ChunkFiles({
      paths: parts.paths,
      identities: parts.identities,
      maxOpenFiles: options.maxOpenFiles ?? MAX_OPEN_FILES,
      beforeClose: async (fileIndex, handle) => await commit?.beforeClose(fileIndex, handle),
      logger: options.logger
    })
    if (parts.journal !== undefined) {
      commit = new GroupCommit({
        journal: parts.journal,
        have: this.have,
        durable: this.durable,
        chunks: this.#chunks,
        files: this.#files,
        flushIntervalMs: options.flushIntervalMs ?? FLUSH_INTERVAL_MS,
        flushEveryChunks: options.flushEveryChunks ?? FLUSH_EVERY_CHUNKS,
        name: this.root,
        log: this.#log
      })
    }
    this.#commit = commit
  }

  /** Opens the store: creates the output tree (download) or checks the sources (seed), and loads state. */
  static async open (options: ChunkStoreOptions): Promise<ChunkStore> {
    checkLayout(options.layout)
    const chunks = new ChunkLayout(options.layout)
    const fingerprint = layoutFingerprint(options.layout)
    const logger = options.logger ?? defaultLogger()
    const log = logger.forComponent('shoal:store')
    const root = resolve(options.root)
    const stateDir = resolve(options.stateDir)
    try {
      await mkdir(stateDir, { recursive: true })
    } catch (err) {
      throw toStoreError(err, stateDir, 'write')
    }
    if (options.mode === 'seed') {
      const sources = await SeedSources.open({ root, layout: options.layout, stateDir, fingerprint: Buffer.from(fingerprint).toString('hex'), log })
      const have = new Bitfield(chunks.chunkCount)
      have.setAll()
      for (const fileIndex of sources.changed) clearFile(have, chunks, fileIndex)
      log('opened %s for seeding: %d of %d chunks served', root, have.count, chunks.chunkCount)
      return new ChunkStore({ options, chunks, have, paths: sources.paths, sources, log })
    }
    const state = await openDownload({
      layout: options.layout,
      chunks,
      fingerprint,
      root,
      base: resolve(options.base ?? root),
      overwrite: options.overwrite === true,
      stateDir,
      logger,
      log
    })
    log('opened %s for download: %d of %d chunks held', root, state.have.count, chunks.chunkCount)
    return new ChunkStore({ options, chunks, log, ...state })
  }

  /** Number of chunks in the layout. */
  get chunkCount (): number {
    return this.#chunks.chunkCount
  }

  /** True when every chunk is held. */
  get complete (): boolean {
    return this.have.complete
  }

  /** Relative paths (as in the layout) of seeded files that changed and are no longer served. */
  get changedFiles (): string[] {
    return (this.#sources?.changed ?? []).map(i => this.layout.files[i]!.path)
  }

  /** True when chunk `index` is held. */
  has (index: number): boolean {
    return this.have.has(index)
  }

  /** Byte length of chunk `index`. */
  chunkLength (index: number): number {
    return this.#chunks.chunkLength(index)
  }

  /** Absolute path on disk of the layout's file number `fileIndex`. */
  pathOf (fileIndex: number): string {
    return this.#files.pathOf(fileIndex)
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
    this.#commit?.throwBackgroundError()
    const loc = this.#chunks.chunk(index)
    if (data.length !== loc.length) {
      throw new ShoalError(StoreErrorCode.CHUNK_MISMATCH, `chunk ${index} must be ${loc.length} bytes, got ${data.length}`)
    }
    if (options.verified !== true && !verifyChunk(this.#chunks, index, data)) {
      throw new ShoalError(StoreErrorCode.CHUNK_MISMATCH, `chunk ${index} does not match its digest; discard its source`)
    }
    if (this.have.has(index)) return false
    const commit = this.#commit
    if (commit === undefined) throw this.#changedError(loc.fileIndex)
    await this.#files.write(loc.fileIndex, loc.offset, data, async () => { await this.#hints?.record(index) })
    commit.touched(loc.fileIndex)
    if (!this.have.set(index)) return false
    commit.add(index)
    return true
  }

  /** Reads held chunk `index`. In seed mode throws ERR_SOURCE_CHANGED once its file has changed. */
  async read (index: number): Promise<Uint8Array> {
    this.#checkOpen()
    const loc = this.#chunks.chunk(index)
    const sources = this.#sources
    if (!this.have.has(index)) {
      if (sources?.isChanged(loc.fileIndex) === true) throw this.#changedError(loc.fileIndex)
      throw new ShoalError(StoreErrorCode.NOT_HELD, `chunk ${index} is not held`)
    }
    const checkSource = sources === undefined
      ? undefined
      : async (handle: FileHandle) => {
        const reason = sources.difference(loc.fileIndex, handle)
        if (reason === undefined) return
        this.#markChanged(loc.fileIndex, reason)
        throw this.#changedError(loc.fileIndex)
      }
    const data = await this.#files.read(loc.fileIndex, loc.offset, loc.length, checkSource)
    if (data.length === loc.length && (!this.#verifyReads || this.#hashed?.has(index) === true || verifyChunk(this.#chunks, index, data))) {
      this.#hashed?.set(index)
      return data
    }
    if (sources !== undefined) {
      this.#markChanged(loc.fileIndex, data.length !== loc.length ? 'it is shorter than shared' : 'its bytes no longer match')
      throw this.#changedError(loc.fileIndex)
    }
    // An output file altered behind our back: forget the chunk so it is fetched again.
    this.#commit?.forget(index)
    throw new ShoalError(StoreErrorCode.SOURCE_CHANGED, `chunk ${index} in ${this.pathOf(loc.fileIndex)} was altered on disk; it will be fetched again`)
  }

  /**
   * Calls `listener` with the durable chunk count after each group commit that made chunks durable.
   * Returns a function that removes it.
   */
  onCommit (listener: (durable: number) => void): () => void {
    return this.#commit?.onCommit(listener) ?? (() => {})
  }

  /** Makes every chunk written so far durable and records it as held. */
  async flush (): Promise<void> {
    await this.#commit?.flush()
  }

  /** Waits for writes in progress, then flushes: afterwards every chunk in `have` so far is durable. */
  async drain (): Promise<void> {
    await this.#files.settle()
    await this.flush()
  }

  /** Waits for writes in progress, flushes, and closes every file. Safe to call more than once. */
  async close (): Promise<void> {
    this.#closed ??= (async () => {
      this.#commit?.stop()
      await this.#files.settle()
      let error: unknown
      try {
        await this.#commit?.finish()
        // everything written is journaled now; a failed flush keeps the hints for the next open
        await this.#hints?.reset()
      } catch (err) {
        error = err
      }
      await this.#hints?.close().catch(() => {})
      await this.#files.close()
      await this.#commit?.closeJournal()
      this.#log('closed %s', this.root)
      if (error !== undefined) throw error
    })()
    await this.#closed
  }

  #markChanged (fileIndex: number, reason: string): void {
    if (this.#sources?.markChanged(fileIndex, reason) !== true) return
    clearFile(this.have, this.#chunks, fileIndex)
    clearFile(this.durable, this.#chunks, fileIndex)
    this.#files.drop(fileIndex)
  }

  #changedError (fileIndex: number): ShoalError {
    return this.#sources?.changedError(fileIndex) ??
      new ShoalError(StoreErrorCode.SOURCE_CHANGED, `${this.pathOf(fileIndex)} is not served`)
  }

  #checkOpen (): void {
    if (this.#closed !== undefined) throw new ShoalError(StoreErrorCode.STORE_CLOSED, `the store of ${this.root} is closed`)
  }
}

/** Clears every chunk of file `fileIndex` from `bits`. */
function clearFile (bits: Bitfield, chunks: ChunkLayout, fileIndex: number): void {
  const { first, count } = chunks.fileChunks(fileIndex)
  for (let i = first; i < first + count; i++) bits.clear(i)
}
