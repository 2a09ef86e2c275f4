import { randomBytes } from 'node:crypto'
import { open, readFile, rename, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { toStoreError } from './store-errors.js'

/** Makes a directory entry change (create, rename) durable by fsyncing the directory. */
export async function fsyncDirectory (path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Replaces `path` with `bytes` atomically: after a crash the file holds either the old or the new
 * bytes, never a mix. Writes a temporary file, fsyncs it, renames it over `path`, fsyncs the folder.
 */
export async function writeFileAtomic (path: string, bytes: Uint8Array | string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    const handle = await open(temp, 'w')
    try {
      await handle.writeFile(bytes)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, path)
    await fsyncDirectory(dirname(path))
  } catch (err) {
    await unlink(temp).catch(() => {})
    throw toStoreError(err, path, 'write')
  }
}

/** Writes `value` as JSON to `path` atomically (see writeFileAtomic). */
export async function writeJsonAtomic (path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`)
}

/** Reads a JSON file; returns undefined when it does not exist or does not parse. */
export async function readJsonIfPresent (path: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw toStoreError(err, path, 'read')
  }
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
