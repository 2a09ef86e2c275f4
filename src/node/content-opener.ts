import { stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { ChunkLayout, decodeManifest, parseCid } from '../content/index.js'
import type { Manifest } from '../content/index.js'
import { ChunkStore } from '../store/index.js'
import { isShoalError, ShoalError } from '../util/shoal-error.js'
import { ContentEntry } from './content-entry.js'
import type { HeldContent } from './content-entry.js'
import type { ContentRecord, ContentRecords } from './content-records.js'

/** A manifest checked against its CID, with the bytes it came as. */
export interface VerifiedManifest {
  manifest: Manifest
  bytes: Uint8Array
}

/**
 * Opens the stores of a node's contents and keeps their records (ContentRecords) in step: a seeded
 * path, a download's output, or a record left by an earlier run.
 */
export class ContentOpener {
  readonly #records: ContentRecords
  readonly #logger: ComponentLogger
  readonly #log: Logger

  constructor (records: ContentRecords, logger: ComponentLogger) {
    this.#records = records
    this.#logger = logger
    this.#log = logger.forComponent('shoal:node')
  }

  /** Serves the file or folder at `root` in place (nothing is copied) and records it. */
  async openSeed (cid: CID, root: string, verified: VerifiedManifest): Promise<HeldContent> {
    const key = cid.toString()
    const { manifest, bytes } = verified
    const meta = { cid: key, mode: 'seed' as const, root, path: root, addedAt: Date.now() }
    const store = await ChunkStore.open({ layout: manifest, root, stateDir: this.#records.stateDir(key), mode: 'seed', logger: this.#logger })
    await this.#saved(store, { meta, manifestBytes: bytes })
    return { manifest, manifestBytes: bytes, layout: new ChunkLayout(manifest), store, meta }
  }

  /** Opens the output of a download into `out` and records it. */
  async openDownload (cid: CID, out: string, overwrite: boolean, verified: VerifiedManifest): Promise<HeldContent> {
    const key = cid.toString()
    const { manifest, bytes } = verified
    // A one-file content is written as <out>/<name>; a folder as <out>/<name>/<its files>.
    const only = manifest.files[0]
    const singleFile = manifest.files.length === 1 && manifest.directories.length === 0 && only?.path === manifest.name
    const root = singleFile ? out : join(out, manifest.name)
    const meta = { cid: key, mode: 'download' as const, root, path: join(out, manifest.name), addedAt: Date.now() }
    // `out` is the user's choice and may be a symlink; `<out>/<name>` and below never are
    const store = await ChunkStore.open({ layout: manifest, root, base: out, overwrite, stateDir: this.#records.stateDir(key), mode: 'download', logger: this.#logger })
    await this.#saved(store, { meta, manifestBytes: bytes })
    return { manifest, manifestBytes: bytes, layout: new ChunkLayout(manifest), store, meta }
  }

  /** Every content recorded by earlier runs, reopened; one that cannot be is listed with state 'error'. */
  async loadAll (): Promise<ContentEntry[]> {
    const entries: ContentEntry[] = []
    for (const record of await this.#records.load(this.#logger)) entries.push(await this.#reopen(record))
    return entries
  }

  async forget (cid: string): Promise<void> {
    await this.#records.delete(cid)
  }

  /** Records an opened store; a record that cannot be written closes the store again. */
  async #saved (store: ChunkStore, record: ContentRecord): Promise<void> {
    try {
      await this.#records.save(record)
    } catch (err) {
      await store.close().catch(() => {})
      throw err
    }
  }

  async #reopen (record: ContentRecord): Promise<ContentEntry> {
    const cid = parseCid(record.meta.cid)
    const entry = new ContentEntry(cid)
    try {
      const manifest = decodeManifest(record.manifestBytes, cid)
      if (record.meta.mode === 'seed') await stat(record.meta.root)
      // a download's output folder (the user's choice) holds meta.path; nothing below it is a symlink
      const base = record.meta.mode === 'download' ? dirname(record.meta.path) : undefined
      const store = await ChunkStore.open({ layout: manifest, root: record.meta.root, base, stateDir: this.#records.stateDir(entry.key), mode: record.meta.mode, logger: this.#logger })
      const held: HeldContent = { manifest, manifestBytes: record.manifestBytes, layout: new ChunkLayout(manifest), store, meta: record.meta }
      if (store.complete) entry.toHeld(held)
      else return new ContentEntry(cid, { state: 'stopped', held })
    } catch (err) {
      const error = isShoalError(err) ? err : new ShoalError('ERR_UNREADABLE', `cannot reopen ${record.meta.root}: ${(err as Error).message}`)
      this.#log.error('content %s cannot be reopened: %e', entry.key, err)
      entry.toError(error, record.meta)
    }
    return entry
  }
}
