import { sep } from 'node:path'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import { safeJoin } from '../content/index.js'
import type { ChunkLayout, ContentLayout } from '../content/index.js'
import type { Bitfield } from '../util/bitfield.js'
import { ShoalError } from '../util/shoal-error.js'
import type { FileIdentity } from './created-files.js'
import { HaveJournal } from './have-journal.js'
import { prepareOutputTree } from './output-tree.js'
import { rehashWritten } from './rehash-written.js'
import { StoreErrorCode } from './store-errors.js'
import { WrittenHints } from './written-hints.js'

/** What a download store is opened from; paths are absolute. */
export interface OpenDownloadInit {
  layout: ContentLayout
  chunks: ChunkLayout
  fingerprint: Uint8Array
  root: string
  base: string
  overwrite: boolean
  stateDir: string
  logger: ComponentLogger
  log: Logger
}

/** A download store's files and the state loaded for them. */
export interface DownloadState {
  paths: string[]
  identities: FileIdentity[]
  journal: HaveJournal
  hints: WrittenHints
  /** Chunks held: journaled ones still in files that were not recreated, plus re-hashed written ones. */
  have: Bitfield
}

/**
 * Lays out the output tree (see prepareOutputTree), replays the have journal, forgets chunks of files
 * created or replaced now, and keeps the chunks written but not journaled before the last stop whose
 * bytes still match (written hints), journaling them.
 */
export async function openDownload (init: OpenDownloadInit): Promise<DownloadState> {
  const { root, base, chunks, fingerprint, stateDir, log } = init
  if (root !== base && !root.startsWith(base.endsWith(sep) ? base : base + sep)) {
    throw new ShoalError(StoreErrorCode.UNSAFE_PATH, `the store root ${root} is not inside the output folder ${base}`)
  }
  const { files, directories } = init.layout
  // the last line of defence: a path that slipped past manifest validation never reaches the disk
  const paths = files.map(file => safeJoin(root, file.path))
  // Files created now, resized or taken over cannot hold chunks the journal may claim.
  const { fresh, identities } = await prepareOutputTree({
    base,
    root,
    files: paths.map((path, i) => ({ path, size: files[i]!.size })),
    directories: directories.map(dir => safeJoin(root, dir)),
    stateDir,
    fingerprint: Buffer.from(fingerprint).toString('hex'),
    overwrite: init.overwrite,
    logger: init.logger
  })

  const { journal, have } = await HaveJournal.open(stateDir, fingerprint, chunks.chunkCount, { logger: init.logger })
  let hints: WrittenHints | undefined
  try {
    let cleared = 0
    for (const fileIndex of fresh) {
      const { first, count } = chunks.fileChunks(fileIndex)
      for (let i = first; i < first + count; i++) if (have.clear(i)) cleared++
    }
    if (cleared > 0) {
      log('%d chunks recorded as held are in files that were missing or resized; fetching them again', cleared)
      await journal.compact(have)
    }
    const opened = await WrittenHints.open(stateDir, chunks.chunkCount, { logger: init.logger })
    hints = opened.hints
    const indexes = opened.indexes
    const freshFiles = new Set(fresh)
    const candidates = indexes.filter(i => !have.has(i) && !freshFiles.has(chunks.chunk(i).fileIndex))
    if (candidates.length > 0) {
      const started = performance.now()
      const kept = await rehashWritten(chunks, paths, identities, candidates)
      await journal.append(kept)
      for (const index of kept) have.set(index)
      log('re-hashed %d chunks written but not committed before the last stop: kept %d in %d ms',
        candidates.length, kept.length, Math.round(performance.now() - started))
    }
    await hints.reset()
    return { paths, identities, journal, hints, have }
  } catch (err) {
    await hints?.close().catch(() => {})
    await journal.close()
    throw err
  }
}
