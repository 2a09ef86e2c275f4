import { stat } from 'node:fs/promises'
import type { Stats } from 'node:fs'
import { join } from 'node:path'
import { ShoalError } from '../util/shoal-error.js'
import { readJsonIfPresent, writeJsonAtomic } from './atomic-file.js'
import { SEED_SOURCES_FILE } from './constants.js'
import { StoreErrorCode, toStoreError } from './store-errors.js'

/** What identifies a seeded file's version: a change to any of these means it may hold other bytes. */
export interface SourceStamp {
  size: number
  mtimeMs: number
  ino: number
}

interface SeedSourcesRecord {
  version: 1
  fingerprint: string
  files: Array<SourceStamp & { path: string }>
}

/** Stamp of a stat result. */
export function stampOf (stats: Stats): SourceStamp {
  return { size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino }
}

/** Describes how `now` differs from `then`, or returns undefined when they match. */
export function stampDifference (then: SourceStamp, now: SourceStamp): string | undefined {
  if (then.size !== now.size) return `size ${then.size} -> ${now.size} bytes`
  if (then.mtimeMs !== now.mtimeMs) return `modified at ${new Date(now.mtimeMs).toISOString()}`
  if (then.ino !== now.ino) return 'replaced by another file'
  return undefined
}

/** Stats a file to be seeded; throws ERR_UNREADABLE unless it is a readable regular file. */
export async function statSource (path: string): Promise<SourceStamp> {
  let stats: Stats
  try {
    stats = await stat(path)
  } catch (err) {
    throw toStoreError(err, path, 'read')
  }
  if (!stats.isFile()) {
    throw new ShoalError(StoreErrorCode.UNREADABLE, `cannot read ${path}: it is not a regular file`)
  }
  return stampOf(stats)
}

/**
 * Loads the stamps recorded when these files were first seeded with this state dir, so changes
 * made while shoal was stopped are noticed. Returns undefined when none were recorded for this layout.
 */
export async function loadSeedStamps (stateDir: string, fingerprint: string, paths: readonly string[]): Promise<SourceStamp[] | undefined> {
  const record = await readJsonIfPresent(join(stateDir, SEED_SOURCES_FILE)) as Partial<SeedSourcesRecord> | undefined
  if (record?.version !== 1 || record.fingerprint !== fingerprint || !Array.isArray(record.files)) return undefined
  if (record.files.length !== paths.length) return undefined
  const stamps: SourceStamp[] = []
  for (const [i, file] of record.files.entries()) {
    if (file.path !== paths[i] || typeof file.size !== 'number' || typeof file.mtimeMs !== 'number' || typeof file.ino !== 'number') return undefined
    stamps.push({ size: file.size, mtimeMs: file.mtimeMs, ino: file.ino })
  }
  return stamps
}

/** Persists the stamps of the seeded files atomically. */
export async function saveSeedStamps (stateDir: string, fingerprint: string, paths: readonly string[], stamps: readonly SourceStamp[]): Promise<void> {
  const record: SeedSourcesRecord = {
    version: 1,
    fingerprint,
    files: stamps.map((stamp, i) => ({ path: paths[i]!, ...stamp }))
  }
  await writeJsonAtomic(join(stateDir, SEED_SOURCES_FILE), record)
}
