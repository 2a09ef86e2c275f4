import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { ShoalError } from '../util/shoal-error.js'
import { validateChunkSize } from './chunk-size.js'
import { HASH_READ_BYTES } from './constants.js'

/** Options of the hashing functions. */
export interface HashOptions {
  signal?: AbortSignal
}

/** Chunk digests of one file and the number of bytes they cover. */
export interface HashedFile {
  size: number
  chunks: Uint8Array[]
}

/** Reads until `buf` is full or the file ends; returns the bytes read. */
async function fill (fh: FileHandle, buf: Uint8Array, position: number): Promise<number> {
  let filled = 0
  while (filled < buf.length) {
    const { bytesRead } = await fh.read(buf, filled, buf.length - filled, position + filled)
    if (bytesRead === 0) break
    filled += bytesRead
  }
  return filled
}

/**
 * Hashes an open file chunk by chunk in constant memory: two reusable buffers, so the thread pool
 * reads the next block while the main thread hashes the current one. A block is at least
 * HASH_READ_BYTES (a whole number of chunks, both being powers of two) so small chunk sizes do not
 * pay one read per chunk. Reads to end of file, whatever size the caller saw earlier.
 */
export async function hashFileHandle (fh: FileHandle, chunkSize: number, options: HashOptions = {}): Promise<HashedFile> {
  validateChunkSize(chunkSize)
  const { signal } = options
  signal?.throwIfAborted()
  const blockSize = Math.max(chunkSize, HASH_READ_BYTES)
  let current = new Uint8Array(blockSize)
  let spare = new Uint8Array(blockSize)
  const chunks: Uint8Array[] = []
  let position = 0
  let n = await fill(fh, current, position)
  while (n > 0) {
    position += n
    // A short read means end of file, so there is no next block to prefetch.
    const next = n === blockSize ? fill(fh, spare, position) : Promise.resolve(0)
    // Mark the prefetch handled now so an abort below cannot leave a rejection unobserved.
    next.catch(() => {})
    try {
      signal?.throwIfAborted()
      for (let off = 0; off < n; off += chunkSize) {
        const end = Math.min(off + chunkSize, n)
        chunks.push(new Uint8Array(createHash('sha256').update(current.subarray(off, end)).digest()))
      }
    } finally {
      n = await next
    }
    const used = current
    current = spare
    spare = used
  }
  return { size: position, chunks }
}

/** sha2-256 digest of every chunkSize slice of the file at `path`, streaming in constant memory. */
export async function hashFile (path: string, chunkSize: number, options: HashOptions = {}): Promise<Uint8Array[]> {
  validateChunkSize(chunkSize)
  return await withReadableFile(path, async fh => (await hashFileHandle(fh, chunkSize, options)).chunks)
}

/**
 * Opens `path` for reading, runs `fn` on it and closes it. A failure that is neither a ShoalError nor
 * an abort becomes ERR_UNREADABLE naming the path, so every read of a source file reports alike.
 */
export async function withReadableFile<T> (path: string, fn: (fh: FileHandle) => Promise<T>): Promise<T> {
  let fh: FileHandle
  try {
    fh = await open(path, 'r')
  } catch (err) {
    throw unreadable(path, err)
  }
  try {
    return await fn(fh)
  } catch (err) {
    if (err instanceof ShoalError || (err as Error)?.name === 'AbortError') throw err
    throw unreadable(path, err)
  } finally {
    await fh.close()
  }
}

/** ERR_UNREADABLE naming the path and the system's reason. */
export function unreadable (path: string, err: unknown): ShoalError {
  const reason = (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message ?? String(err)
  return new ShoalError('ERR_UNREADABLE', `cannot read ${path} (${reason}); check that it exists and you may read it`, { cause: err })
}
