import { fstatSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { safeJoin } from '../content/index.js'
import type { ContentLayout } from '../content/index.js'
import type { Logger } from '@libp2p/interface'
import { ShoalError } from '../util/shoal-error.js'
import { loadSeedStamps, saveSeedStamps, stampDifference, stampOf, statSource } from './source-stamp.js'
import type { SourceStamp } from './source-stamp.js'
import { StoreErrorCode, toStoreError } from './store-errors.js'

/** Where seeding reads from, and what to open a SeedSources with. */
export interface SeedSourcesInit {
  /** The directory holding the layout's files or, for a single-file layout, the file itself. */
  root: string
  layout: ContentLayout
  stateDir: string
  /** Hex layout fingerprint, so stamps recorded for other content are never trusted. */
  fingerprint: string
  log: Logger
}

/**
 * The files a seed store serves in place, and which of them changed since they were first shared.
 * A change (size, mtime, inode, or bytes that no longer match) is permanent for this content: the
 * stamps recorded first are kept across restarts, so a file edited while shoal was stopped stays changed.
 */
export class SeedSources {
  /** Absolute path of each layout file. */
  readonly paths: string[]
  readonly #stamps: SourceStamp[]
  readonly #changed: Map<number, string>
  readonly #log: Logger

  private constructor (paths: string[], stamps: SourceStamp[], changed: Map<number, string>, log: Logger) {
    this.paths = paths
    this.#stamps = stamps
    this.#changed = changed
    this.#log = log
  }

  /** Checks every source against the layout and the recorded stamps; records the stamps on first use. */
  static async open (init: SeedSourcesInit): Promise<SeedSources> {
    const { root, layout: { files }, log } = init
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
      paths = files.map(file => safeJoin(root, file.path))
    } else {
      throw new ShoalError(StoreErrorCode.UNREADABLE, `cannot seed ${root}: it is neither a regular file nor a directory`)
    }

    const current: SourceStamp[] = []
    for (const path of paths) current.push(await statSource(path))
    const recorded = await loadSeedStamps(init.stateDir, init.fingerprint, paths)
    const changed = new Map<number, string>()
    for (const [i, file] of files.entries()) {
      const reason = (recorded !== undefined ? stampDifference(recorded[i]!, current[i]!) : undefined) ??
        (current[i]!.size !== file.size ? `size is ${current[i]!.size} bytes, the content says ${file.size}` : undefined)
      if (reason === undefined) continue
      changed.set(i, reason)
      log('%s changed since it was shared (%s); not serving it', paths[i], reason)
    }
    if (recorded === undefined) await saveSeedStamps(init.stateDir, init.fingerprint, paths, current)
    return new SeedSources(paths, recorded ?? current, changed, log)
  }

  /** Indexes of the files that changed and are no longer served. */
  get changed (): number[] {
    return [...this.#changed.keys()]
  }

  /** True when file `fileIndex` changed. */
  isChanged (fileIndex: number): boolean {
    return this.#changed.has(fileIndex)
  }

  /**
   * How the open file `fileIndex` differs from its stamp now, or undefined when it does not. Runs on
   * every chunk read, so it stats the open descriptor in place: an fstat of an open file reads its
   * in-memory inode (~4 us here), while `handle.stat()` hops through libuv's thread pool and cost
   * ~80 us of CPU per call on this machine, a seeder's third-largest cost per chunk served.
   */
  difference (fileIndex: number, handle: FileHandle): string | undefined {
    return stampDifference(this.#stamps[fileIndex]!, stampOf(fstatSync(handle.fd)))
  }

  /** Records that file `fileIndex` changed; false when that was known already. */
  markChanged (fileIndex: number, reason: string): boolean {
    if (this.#changed.has(fileIndex)) return false
    this.#changed.set(fileIndex, reason)
    this.#log('%s changed while being seeded (%s); no longer serving it', this.paths[fileIndex], reason)
    return true
  }

  /** ERR_SOURCE_CHANGED for file `fileIndex`, saying what to do. */
  changedError (fileIndex: number): ShoalError {
    const reason = this.#changed.get(fileIndex) ?? 'it is not served'
    return new ShoalError(StoreErrorCode.SOURCE_CHANGED,
      `${this.paths[fileIndex]} changed since it was shared (${reason}); its chunks are no longer served — publish it again to share the new content`)
  }
}
