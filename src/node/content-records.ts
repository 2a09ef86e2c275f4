import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { defaultLogger } from '@libp2p/logger'
import type { ComponentLogger } from '@libp2p/interface'
import { fsyncDirectory, readJsonIfPresent, writeFileAtomic, writeJsonAtomic } from '../store/index.js'
import { ShoalError } from '../util/shoal-error.js'

/** meta.json's name once an eviction marked the record (see markEvicting). */
const EVICTING_FILE = 'evicting.json'

/** What a node remembers about one content across restarts (contents/<cid>/meta.json). */
export interface ContentMeta {
  cid: string
  /** seed: existing files served in place; download: fetched into `root`. */
  mode: 'seed' | 'download'
  /** Store root: the seeded file or folder, or the output folder of a download. */
  root: string
  /** Where the content itself is: the file, or the folder. */
  path: string
  addedAt: number
  /** Pinned by a user: the cache never evicts it. */
  pinned?: boolean
  /** Last use the cache knew of when it last saved this record (ms since the epoch). */
  lastUsedAt?: number
}

export interface ContentRecord {
  meta: ContentMeta
  manifestBytes: Uint8Array
}

/**
 * The per-content records under `<dataDir>/contents/<cid>/`: the manifest bytes, meta.json and the
 * store's own state folder. Records are written atomically (temp file, fsync, rename), manifest
 * first and meta last, so a record with a meta.json is always complete.
 */
export class ContentRecords {
  readonly #dir: string

  constructor (dataDir: string) {
    this.#dir = join(dataDir, 'contents')
  }

  /** The store state folder of a content. */
  stateDir (cid: string): string {
    return join(this.#dir, cid, 'store')
  }

  async save (record: ContentRecord): Promise<void> {
    const dir = join(this.#dir, record.meta.cid)
    try {
      await mkdir(dir, { recursive: true })
    } catch (err) {
      throw new ShoalError('ERR_NOT_WRITABLE', `cannot create ${dir}: ${(err as Error).message}; check the data dir (--data-dir)`, { cause: err })
    }
    await writeFileAtomic(join(dir, 'manifest.cbor'), record.manifestBytes)
    await writeJsonAtomic(join(dir, 'meta.json'), record.meta)
  }

  /** Rewrites meta.json alone (atomically): pins, last use, the eviction mark. */
  async saveMeta (meta: ContentMeta): Promise<void> {
    await writeJsonAtomic(join(this.#dir, meta.cid, 'meta.json'), meta)
  }

  /**
   * Marks a record as being evicted, durably, before any of its files go: meta.json is renamed to
   * evicting.json, so load() no longer sees it. A rename needs no free space, so this works on the
   * full disk that made the eviction necessary (an atomic rewrite would need a temp file).
   */
  async markEvicting (cid: string): Promise<void> {
    const dir = join(this.#dir, cid)
    await rename(join(dir, 'meta.json'), join(dir, EVICTING_FILE))
    await fsyncDirectory(dir)
  }

  /** Undoes markEvicting (the content was taken by a reader meanwhile). */
  async unmarkEvicting (cid: string): Promise<void> {
    const dir = join(this.#dir, cid)
    await rename(join(dir, EVICTING_FILE), join(dir, 'meta.json'))
    await fsyncDirectory(dir)
  }

  /** The record folders' names (CIDs), sorted; none when the folder does not exist yet. */
  async #names (): Promise<string[]> {
    try {
      return (await readdir(this.#dir)).sort()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw new ShoalError('ERR_BAD_DATA_DIR', `cannot read ${this.#dir}: ${(err as Error).message}`, { cause: err })
    }
  }

  /** The metas of records an eviction marked (and a crash may have left half done). */
  async loadEvicting (): Promise<ContentMeta[]> {
    const names = await this.#names()
    const metas: ContentMeta[] = []
    for (const name of names) {
      const meta = await readJsonIfPresent(join(this.#dir, name, EVICTING_FILE)).catch(() => undefined) as ContentMeta | undefined
      if (meta?.cid === name && typeof meta.path === 'string' && typeof meta.root === 'string') metas.push(meta)
    }
    return metas
  }

  /** Every complete record. A broken one is logged and skipped, never fatal: the rest still load. */
  async load (logger: ComponentLogger = defaultLogger()): Promise<ContentRecord[]> {
    const log = logger.forComponent('shoal:node:records')
    const names = await this.#names()
    const records: ContentRecord[] = []
    for (const name of names) {
      try {
        const meta = await readJsonIfPresent(join(this.#dir, name, 'meta.json')) as ContentMeta | undefined
        if (meta === undefined) continue
        if (meta.cid !== name || (meta.mode !== 'seed' && meta.mode !== 'download') || typeof meta.root !== 'string') {
          throw new Error('meta.json does not describe this content')
        }
        const manifestBytes = new Uint8Array(await readFile(join(this.#dir, name, 'manifest.cbor')))
        records.push({ meta, manifestBytes })
      } catch (err) {
        log.error('skipping content record %s: %e', name, err)
      }
    }
    return records
  }

  async delete (cid: string): Promise<void> {
    await rm(join(this.#dir, cid), { recursive: true, force: true })
  }
}
