import { constants as fsConstants } from 'node:fs'
import type { Stats } from 'node:fs'
import { lstat, mkdir, open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { basename, dirname, relative, sep } from 'node:path'
import { defaultLogger } from '@libp2p/logger'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import { ShoalError } from '../util/shoal-error.js'
import { fsyncDirectory } from './atomic-file.js'
import { identityOf, loadCreatedFiles, sameFile, saveCreatedFiles } from './created-files.js'
import type { CreatedFiles, FileIdentity } from './created-files.js'
import { StoreErrorCode, toStoreError } from './store-errors.js'

/** What to lay out: absolute paths, all under `root`, which is `base` or below it. */
export interface OutputTreeInit {
  /** The folder the user chose. It may itself be a symlink; nothing below it may be. Created if missing. */
  base: string
  /** The content's own top-level entry (`base/<name>`) or `base` itself for a single file. */
  root: string
  files: Array<{ path: string, size: number }>
  directories: string[]
  stateDir: string
  /** Hex fingerprint of the layout, so a marker of other content is never trusted. */
  fingerprint: string
  /** Replace existing regular files shoal did not create. */
  overwrite: boolean
  /** Where to log; the process-wide logger when absent. */
  logger?: ComponentLogger
}

export interface PreparedOutput {
  /** Indexes of files created, resized or replaced now: their old bytes cannot hold journaled chunks. */
  fresh: number[]
  /** The inode each output file was checked to be; later opens must land on the same one. */
  identities: FileIdentity[]
}

/**
 * Creates the output folders and files of a download without ever going through a symlink below
 * `base`, and without replacing a file shoal did not create unless `overwrite` is set.
 *
 * Node has no openat(), so each step is a path operation checked right after: folders are made one
 * level at a time and lstat'ed, files are opened with O_NOFOLLOW and their handle's dev/ino compared
 * with an lstat of the path, and every folder on the way is re-checked to still be the folder seen
 * before. A hostile local user who can write inside the destination can still win the window
 * between a check and the next path operation (swap a checked folder for a symlink and back): at
 * worst shoal then creates a new file (O_EXCL, never clobbering) in the symlink's target, or, with
 * `overwrite`, opens an existing file there. Only openat()/O_BENEATH-style calls would close that.
 */
export async function prepareOutputTree (init: OutputTreeInit): Promise<PreparedOutput> {
  const log = (init.logger ?? defaultLogger()).forComponent('shoal:store:output')
  const toSync = new Set<string>()
  await makeBase(init.base, toSync)

  // Plan first: a refusal must leave nothing created.
  const dirs = foldersBelow(init)
  const dirState = new Map<string, FileIdentity | undefined>()
  for (const dir of dirs) {
    const parent = dirname(dir)
    if (parent !== init.base && dirState.get(parent) === undefined) {
      dirState.set(dir, undefined)
      continue
    }
    const stats = await lstatIfPresent(dir)
    if (stats === undefined) {
      dirState.set(dir, undefined)
      continue
    }
    if (stats.isSymbolicLink()) throw symlinkError(dir)
    if (!stats.isDirectory()) {
      throw new ShoalError(StoreErrorCode.ALREADY_EXISTS,
        `cannot create the folder ${dir}: a file is in the way; move it away or choose another output folder (--overwrite replaces files, never a file by a folder)`)
    }
    dirState.set(dir, identityOf(stats))
  }

  const marker = await loadCreatedFiles(init.stateDir, init.fingerprint)
  const existing: Array<Stats | undefined> = []
  for (const file of init.files) {
    const parent = dirname(file.path)
    const stats = parent === init.base || dirState.get(parent) !== undefined ? await lstatIfPresent(file.path) : undefined
    existing.push(stats)
    if (stats === undefined) continue
    if (stats.isSymbolicLink()) throw symlinkError(file.path)
    if (stats.isDirectory()) {
      throw new ShoalError(StoreErrorCode.ALREADY_EXISTS,
        `cannot create the file ${file.path}: a folder is in the way; move it away or choose another output folder (--overwrite replaces files, never a folder)`)
    }
    if (!stats.isFile()) throw new ShoalError(StoreErrorCode.NOT_WRITABLE, `cannot use ${file.path}: it is not a regular file`)
    if (stats.nlink > 1) throw hardLinkError(file.path)
    if (!init.overwrite && !isOurs(marker, file.path, stats)) {
      throw new ShoalError(StoreErrorCode.ALREADY_EXISTS,
        `${file.path} already exists and shoal did not create it; pass --overwrite to replace it, or choose another output folder`)
    }
  }

  // Recorded before the first file is created, so a kill right after still knows they are ours.
  let changed = false
  for (const [i, file] of init.files.entries()) {
    if (existing[i] === undefined && !(file.path in marker.files)) {
      marker.files[file.path] = null
      changed = true
    }
  }
  if (changed) await saveCreatedFiles(init.stateDir, init.fingerprint, marker)

  for (const dir of dirs) {
    if (dirState.get(dir) !== undefined) continue
    dirState.set(dir, await makeFolder(dir, toSync))
  }

  const fresh: number[] = []
  const identities: FileIdentity[] = []
  for (const [i, file] of init.files.entries()) {
    const recorded = marker.files[file.path]
    const { identity, reset } = await prepareFile(file.path, file.size, existing[i] !== undefined, init, dirState, log)
    if (existing[i] === undefined) toSync.add(dirname(file.path))
    // a foreign file taken over, or one replaced since shoal made it (both only with overwrite),
    // holds none of the chunks the journal may claim
    const replaced = recorded === undefined
      ? existing[i] !== undefined
      : recorded !== null && !sameFile(recorded, identity)
    if (reset || replaced) fresh.push(i)
    if (recorded == null || !sameFile(recorded, identity)) {
      marker.files[file.path] = identity
      changed = true
    }
    identities.push(identity)
  }
  if (changed) await saveCreatedFiles(init.stateDir, init.fingerprint, marker)

  for (const dir of toSync) {
    try {
      await fsyncDirectory(dir)
    } catch (err) {
      throw toStoreError(err, dir, 'write')
    }
  }
  return { fresh, identities }
}

/**
 * Opens output file `path` for writing and proves the handle is the inode `expected` (the one
 * checked when the store opened), so a file swapped for a symlink or another file is never written.
 */
export async function openCheckedFile (path: string, expected: FileIdentity): Promise<FileHandle> {
  let handle: FileHandle
  try {
    handle = await open(path, fsConstants.O_RDWR | fsConstants.O_NOFOLLOW)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw symlinkError(path)
    throw err
  }
  try {
    const stats = await handle.stat()
    if (!sameFile(identityOf(stats), expected)) {
      throw new ShoalError(StoreErrorCode.UNSAFE_PATH,
        `${path} was replaced by another file while shoal was writing it; refusing to write it — check who else writes to this folder`)
    }
    return handle
  } catch (err) {
    await handle.close().catch(() => {})
    throw err
  }
}

/** The user's own folder: created with its parents; a symlink there is the user's choice and is followed. */
async function makeBase (base: string, toSync: Set<string>): Promise<void> {
  let first: string | undefined
  try {
    first = await mkdir(base, { recursive: true })
  } catch (err) {
    throw toStoreError(err, base, 'write')
  }
  if (first === undefined) return
  for (let d = base; d !== dirname(first) && d !== dirname(d); d = dirname(d)) toSync.add(d)
  toSync.add(dirname(first))
}

/** Every folder strictly below `base` that the tree needs, parents before children. */
function foldersBelow (init: OutputTreeInit): string[] {
  const wanted = new Set<string>()
  const add = (dir: string): void => {
    for (let d = dir; d !== init.base && isBelow(init.base, d) && !wanted.has(d); d = dirname(d)) wanted.add(d)
  }
  if (init.root !== init.base) add(init.root)
  for (const dir of init.directories) add(dir)
  for (const file of init.files) add(dirname(file.path))
  return [...wanted].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0))
}

async function makeFolder (dir: string, toSync: Set<string>): Promise<FileIdentity> {
  try {
    await mkdir(dir)
    toSync.add(dirname(dir))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw toStoreError(err, dir, 'write')
  }
  // checked after mkdir: a symlink planted since the plan must not be entered
  const stats = await lstat(dir).catch(err => { throw toStoreError(err, dir, 'write') })
  if (stats.isSymbolicLink()) throw symlinkError(dir)
  if (!stats.isDirectory()) throw new ShoalError(StoreErrorCode.ALREADY_EXISTS, `cannot create the folder ${dir}: a file is in the way`)
  return identityOf(stats)
}

/** Creates or resizes one output file. `reset` is true when its old bytes cannot be trusted. */
async function prepareFile (path: string, size: number, exists: boolean, init: OutputTreeInit,
  dirState: Map<string, FileIdentity | undefined>, log: Logger): Promise<{ identity: FileIdentity, reset: boolean }> {
  let handle: FileHandle
  try {
    handle = exists
      ? await open(path, fsConstants.O_RDWR | fsConstants.O_NOFOLLOW)
      : await open(path, fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o666)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw symlinkError(path)
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ShoalError(StoreErrorCode.ALREADY_EXISTS, `${path} appeared while shoal was creating it; run again, or pass --overwrite to replace it`)
    }
    throw toStoreError(err, path, 'write')
  }
  try {
    const stats = await handle.stat()
    if (!stats.isFile()) throw new ShoalError(StoreErrorCode.NOT_WRITABLE, `cannot use ${path}: it is not a regular file`)
    if (stats.nlink > 1) throw hardLinkError(path)
    const now = await lstat(path)
    if (!sameFile(identityOf(now), identityOf(stats))) throw symlinkError(path)
    // the folders on the way must still be the real folders checked before the open
    for (let d = dirname(path); d !== init.base && isBelow(init.base, d); d = dirname(d)) {
      const seen = dirState.get(d)
      const current = await lstat(d)
      if (seen === undefined || current.isSymbolicLink() || !sameFile(identityOf(current), seen)) throw symlinkError(d)
    }
    const identity = identityOf(stats)
    if (stats.size === size) return { identity, reset: !exists }
    await handle.truncate(size)
    if (exists) log('%s had %d bytes, expected %d; resized it', basename(path), stats.size, size)
    return { identity, reset: true }
  } catch (err) {
    throw toStoreError(err, path, 'write')
  } finally {
    await handle.close()
  }
}

/** True when the marker says shoal created this very file for this content. */
function isOurs (marker: CreatedFiles, path: string, stats: Stats): boolean {
  if (!(path in marker.files)) return false
  const recorded = marker.files[path]
  if (recorded != null) return sameFile(recorded, identityOf(stats))
  // killed between announcing the file and recording its inode: ours only if it looks like it
  return stats.nlink === 1 && stats.uid === process.getuid?.()
}

function symlinkError (path: string): ShoalError {
  return new ShoalError(StoreErrorCode.UNSAFE_PATH,
    `refusing to write through ${path}: it is a symbolic link (or was swapped for one); remove it or choose another output folder`)
}

// writing a file with other hard links would change the file under its other names too
function hardLinkError (path: string): ShoalError {
  return new ShoalError(StoreErrorCode.UNSAFE_PATH,
    `refusing to write ${path}: it has other hard links, so writing it would change another file too; remove it or choose another output folder`)
}

async function lstatIfPresent (path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw toStoreError(err, path, 'write')
  }
}

function isBelow (base: string, path: string): boolean {
  const rel = relative(base, path)
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..'
}

function depth (path: string): number {
  return path.split(sep).length
}
