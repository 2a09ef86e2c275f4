import { lstat, readdir, stat } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import type { Stats } from 'node:fs'
import { defaultLogger } from '@libp2p/logger'
import type { ComponentLogger } from '@libp2p/interface'
import { ShoalError } from '../util/shoal-error.js'
import { validateChunkSize } from './chunk-size.js'
import { DEFAULT_CHUNK_SIZE, MANIFEST_VERSION } from './constants.js'
import { hashFileHandle, unreadable, withReadableFile } from './hash-file.js'
import { encodeManifest } from './manifest-codec.js'
import { ManifestError } from './manifest-error.js'
import { validatePathSegment } from './manifest-path.js'
import type { ContentFile } from './content-layout.js'
import type { EncodedManifest } from './manifest-codec.js'
import type { Manifest } from './manifest.js'

/** Options of buildManifest. */
export interface BuildManifestOptions {
  /** Power of two from 64 KiB to 16 MiB; DEFAULT_CHUNK_SIZE when absent. */
  chunkSize?: number
  /** Content name; the base name of `path` when absent. */
  name?: string
  signal?: AbortSignal
  /** Where to log (e.g. one node's prefixed logger); the process-wide `shoal:content` logger when absent. */
  logger?: ComponentLogger
}

/** A freshly built manifest with its encoding and CID. */
export interface BuiltManifest extends EncodedManifest {
  manifest: Manifest
}

interface FoundFile {
  rel: string
  abs: string
}

const utf8 = new TextEncoder()

/** Orders by UTF-8 bytes, so every implementation and platform sorts paths the same way. */
function compareUtf8 (a: string, b: string): number {
  return Buffer.compare(utf8.encode(a), utf8.encode(b))
}

function unsupported (abs: string, what: string): ShoalError {
  return new ShoalError('ERR_UNSUPPORTED_FILE', `${abs} is ${what}; shoal only publishes regular files and directories. Remove it, or copy its target in place of it`)
}

function checkName (name: string, abs: string): void {
  try {
    validatePathSegment(name, 'file name')
  } catch (err) {
    throw new ManifestError('ERR_BAD_PATH', `${abs} cannot be published: ${(err as Error).message}; rename it`)
  }
}

/**
 * Lists the regular files and empty directories below `root`.
 *
 * Symlinks and special files (FIFOs, sockets, devices) inside the tree are rejected with an error
 * naming them, never followed or skipped: following could leave the tree or loop, and skipping would
 * silently publish less than the user asked for. The top-level path itself may be a symlink, since
 * the user named it explicitly.
 */
async function walk (root: string, signal?: AbortSignal): Promise<{ files: FoundFile[], directories: string[] }> {
  const files: FoundFile[] = []
  const directories: string[] = []
  const pending: Array<{ abs: string, rel: string }> = [{ abs: root, rel: '' }]
  while (pending.length > 0) {
    signal?.throwIfAborted()
    const dir = pending.pop()!
    let entries
    try {
      entries = await readdir(dir.abs, { withFileTypes: true })
    } catch (err) {
      throw unreadable(dir.abs, err)
    }
    if (entries.length === 0 && dir.rel !== '') directories.push(dir.rel)
    for (const entry of entries) {
      const abs = join(dir.abs, entry.name)
      const rel = dir.rel === '' ? entry.name : `${dir.rel}/${entry.name}`
      checkName(entry.name, abs)
      let kind: Stats | typeof entry = entry
      // Some filesystems do not report entry types from readdir; ask lstat then.
      if (!entry.isFile() && !entry.isDirectory() && !entry.isSymbolicLink() && !entry.isFIFO() &&
          !entry.isSocket() && !entry.isBlockDevice() && !entry.isCharacterDevice()) {
        try {
          kind = await lstat(abs)
        } catch (err) {
          throw unreadable(abs, err)
        }
      }
      if (kind.isDirectory()) pending.push({ abs, rel })
      else if (kind.isFile()) files.push({ abs, rel })
      else if (kind.isSymbolicLink()) throw unsupported(abs, 'a symbolic link')
      else throw unsupported(abs, 'a special file (FIFO, socket or device)')
    }
  }
  files.sort((a, b) => compareUtf8(a.rel, b.rel))
  directories.sort(compareUtf8)
  return { files, directories }
}

async function hashOne (abs: string, rel: string, chunkSize: number, signal?: AbortSignal): Promise<ContentFile> {
  return await withReadableFile(abs, async fh => {
    const st = await fh.stat()
    if (!st.isFile()) throw unsupported(abs, 'not a regular file')
    const { size, chunks } = await hashFileHandle(fh, chunkSize, { signal })
    if (size !== st.size) {
      throw new ShoalError('ERR_SOURCE_CHANGED', `${abs} changed size while it was being read (${st.size} -> ${size} bytes); publish it once it is stable`)
    }
    return { path: rel, size, chunks }
  })
}

/**
 * Builds the manifest of a file (a one-entry manifest named after it) or a directory tree (every
 * regular file sorted by UTF-8 path, empty directories listed), encodes it and computes its CID.
 */
export async function buildManifest (path: string, options: BuildManifestOptions = {}): Promise<BuiltManifest> {
  const { signal } = options
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
  validateChunkSize(chunkSize)
  signal?.throwIfAborted()
  const abs = resolve(path)
  let st: Stats
  try {
    st = await stat(abs)
  } catch (err) {
    throw unreadable(abs, err)
  }
  const name = options.name ?? basename(abs)
  if (name === '') throw new ManifestError('ERR_BAD_PATH', `${abs} has no base name; pass a name for the content`)
  validatePathSegment(name, 'content name')

  let files: ContentFile[]
  let directories: string[] = []
  if (st.isFile()) {
    const fileName = basename(abs)
    checkName(fileName, abs)
    files = [await hashOne(abs, fileName, chunkSize, signal)]
  } else if (st.isDirectory()) {
    const found = await walk(abs, signal)
    files = []
    for (const file of found.files) files.push(await hashOne(file.abs, file.rel, chunkSize, signal))
    directories = found.directories
  } else {
    throw unsupported(abs, 'a special file (FIFO, socket or device)')
  }

  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    name,
    size: files.reduce((sum, f) => sum + f.size, 0),
    chunkSize,
    files,
    directories
  }
  const { bytes, cid } = encodeManifest(manifest)
  const log = (options.logger ?? defaultLogger()).forComponent('shoal:content')
  log('built manifest %s for %s: %d files, %d bytes', cid, abs, files.length, manifest.size)
  return { manifest, bytes, cid }
}
