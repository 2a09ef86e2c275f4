import type { Logger } from '@libp2p/interface'
import { findFile, parseCid, validateManifestPath, verifyChunk } from '../content/index.js'
import type { ChunkLayout, Manifest } from '../content/index.js'
import { isShoalError, ShoalError } from '../util/shoal-error.js'
import type { ContentEntry, HeldContent } from './content-entry.js'
import type { ContentLeases } from './content-leases.js'
import type { ContentRegistry } from './content-registry.js'
import { READ_AHEAD_BYTES, READ_ENTRY_POLL_MS } from './constants.js'
import type { ContentRead, GetResult, ReadOptions, ReadTarget, StatOptions } from './types.js'

export interface ContentReaderInit {
  contents: ContentRegistry
  leases: ContentLeases
  /** The node's fetch into its managed store (joins a download under way). */
  fetch(cid: string, options: { findTimeoutMs?: number }): Promise<GetResult>
  log: Logger
}

/** The content a read resolved to: its entry, what it holds and which file of it is read. */
interface Resolved {
  entry: ContentEntry
  held: HeldContent
  target: ReadTarget
  fileIndex: number
  /** The download this read started or joined; undefined when the content was held in full. */
  download?: Download
}

/** A fetch under way, with how it ended once it has. */
interface Download {
  settled: boolean
  error?: unknown
}

/**
 * Streams the bytes of a content's file to a reader (the HTTP data plane, `shoal cat`, the registry
 * mirror). A content not held in full is fetched into the managed store; the read waits for its
 * manifest, asks the download for the chunks of the requested range first (READ_AHEAD_BYTES ahead of
 * the reader at most, so a whole-file read does not turn the swarm's rarest-first into sequential
 * order) and hands out each chunk once it is verified and written. A reader that goes away (its
 * signal aborts) ends only its read: the download goes on, and the content is then seeded from the
 * managed store like any other.
 */
export class ContentReader {
  readonly #init: ContentReaderInit

  constructor (init: ContentReaderInit) {
    this.#init = init
  }

  /** Size, name and ETag of the file a read would stream; fetches the manifest when it is not held. */
  async stat (cidText: string, options: StatOptions = {}): Promise<ReadTarget> {
    const cid = parseCid(cidText).toString()
    const release = this.#init.leases.acquire(cid)
    try {
      return (await this.#resolve(cid, options)).target
    } finally {
      release()
    }
  }

  /**
   * Opens a read of bytes `start`..`end` (inclusive) of a file of the content. The content is leased
   * until the stream ends, fails or `signal` aborts: consume the stream or abort the signal.
   */
  async read (cidText: string, options: ReadOptions = {}): Promise<ContentRead> {
    const cid = parseCid(cidText).toString()
    const release = this.#init.leases.acquire(cid)
    const signal = options.signal
    try {
      const resolved = await this.#resolve(cid, options)
      const { size } = resolved.target
      const start = options.start ?? 0
      const end = options.end ?? size - 1
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start - 1) {
        throw new ShoalError('ERR_BAD_REQUEST', `byte range ${start}-${end} is malformed; give 0 <= start <= end + 1`)
      }
      if ((start >= size && size > 0) || (size === 0 && start > 0)) {
        throw new ShoalError('ERR_RANGE_NOT_SATISFIABLE', `byte ${start} is past the end of ${resolved.target.name} (${size} bytes)`)
      }
      const last = Math.min(end, size - 1)
      signal?.addEventListener('abort', release, { once: true })
      this.#init.log('read of %s/%s bytes %d-%d (%s)', cid, resolved.target.path, start, last, resolved.target.held ? 'held' : 'fetching')
      return { ...resolved.target, start, end: last, stream: this.#stream(resolved, start, last, signal, release) }
    } catch (err) {
      release()
      throw err
    }
  }

  /** Finds the content (fetching its manifest if needed) and the file `options.path` names in it. */
  async #resolve (cid: string, options: StatOptions): Promise<Resolved> {
    const { signal } = options
    throwIfAborted(signal)
    const { contents } = this.#init
    let entry = contents.get(cid)
    if (entry?.held !== undefined && entry.complete && entry.phase.state !== 'error') return this.#target(entry, entry.held, options.path)
    // Not held in full: fetch it into the managed store (or join the download under way). It is not
    // tied to this reader's signal, so a client going away leaves the content being fetched and seeded.
    const download: Download = { settled: false }
    const wake = new Wakeup()
    this.#init.fetch(cid, { findTimeoutMs: options.findTimeoutMs })
      .then(() => {}, err => { download.error = err })
      .finally(() => { download.settled = true; wake.fire() })
    signal?.addEventListener('abort', wake.fire, { once: true })
    try {
      for (;;) {
        throwIfAborted(signal)
        if (download.error !== undefined) throw download.error
        entry = contents.get(cid)
        const held = entry?.held
        if (entry !== undefined && held !== undefined && entry.phase.state !== 'error') return { ...this.#target(entry, held, options.path), download }
        if (entry === undefined || entry.phase.state === 'error') {
          // the fetch creates the entry (or replaces a failed one) a few turns of the event loop
          // after it starts; a failed one is dropped without a notify, so look again shortly
          await new Promise(resolve => setTimeout(resolve, READ_ENTRY_POLL_MS))
          continue
        }
        const stop = entry.reads.listen(wake.fire)
        try {
          await wake.wait()
        } finally {
          stop()
        }
      }
    } finally {
      signal?.removeEventListener('abort', wake.fire)
    }
  }

  #target (entry: ContentEntry, held: HeldContent, path: string | undefined): Resolved {
    const { manifest } = held
    const fileIndex = fileIndexOf(manifest, entry.key, path)
    const file = manifest.files[fileIndex]!
    const { first, count } = held.layout.fileChunks(fileIndex)
    let complete = true
    for (let i = first; i < first + count && complete; i++) complete = held.store.has(i)
    const whole = manifest.files.length === 1
    const name = file.path.slice(file.path.lastIndexOf('/') + 1)
    const target: ReadTarget = {
      cid: entry.key,
      path: file.path,
      name,
      size: file.size,
      // one file of many is named by the content and its path; a one-file content's file is the content
      etag: whole ? `"${entry.key}"` : `"${entry.key}/${encodeURI(file.path)}"`,
      held: complete
    }
    return { entry, held, target, fileIndex }
  }

  async * #stream (resolved: Resolved, start: number, last: number, signal: AbortSignal | undefined, release: () => void): AsyncGenerator<Uint8Array> {
    const { entry, held, fileIndex, download } = resolved
    const { layout, store } = held
    const wake = new Wakeup()
    const stopListening = entry.reads.listen(wake.fire)
    signal?.addEventListener('abort', wake.fire, { once: true })
    try {
      if (last < start) return
      const chunkSize = layout.chunkSize
      const { first } = layout.fileChunks(fileIndex)
      const from = first + Math.floor(start / chunkSize)
      const to = first + Math.floor(last / chunkSize)
      const ahead = Math.max(1, Math.floor(READ_AHEAD_BYTES / chunkSize))
      let wantedTo = from - 1
      for (let index = from; index <= to; index++) {
        if (wantedTo < Math.min(to, index + ahead - 1)) {
          const next = Math.min(to, index + ahead - 1)
          const indexes: number[] = []
          for (let i = wantedTo + 1; i <= next; i++) if (!store.has(i)) indexes.push(i)
          entry.reads.want(indexes)
          wantedTo = next
        }
        while (!store.has(index)) {
          throwIfAborted(signal)
          if (download?.error !== undefined) throw download.error
          if (download === undefined || download.settled) {
            throw new ShoalError('ERR_NOT_HELD', `chunk ${index} of ${entry.key} is no longer held and no download is under way; try again`)
          }
          await wake.wait()
        }
        const data = await readVerified(layout, store, index, entry.key)
        const chunkStart = (index - first) * chunkSize
        const lo = Math.max(start - chunkStart, 0)
        const hi = Math.min(last - chunkStart + 1, data.length)
        yield lo === 0 && hi === data.length ? data : data.subarray(lo, hi)
      }
    } finally {
      signal?.removeEventListener('abort', wake.fire)
      signal?.removeEventListener('abort', release)
      stopListening()
      release()
    }
  }
}

/** Throws ERR_ABORTED (with the signal's reason as the cause) once `signal` has aborted. */
function throwIfAborted (signal: AbortSignal | undefined): void {
  if (signal?.aborted !== true) return
  if (isShoalError(signal.reason)) throw signal.reason
  throw new ShoalError('ERR_ABORTED', 'the read was aborted', { cause: signal.reason })
}

/** Chunk `index` as read back from the store, checked against the manifest once more before it leaves. */
async function readVerified (layout: ChunkLayout, store: HeldContent['store'], index: number, cid: string): Promise<Uint8Array> {
  const data = await store.read(index)
  // a seed store re-hashes every read itself; a download store's file could have been altered on
  // disk since the chunk was verified, and an HTTP client has no digest to check it against
  if (store.mode !== 'seed' && !verifyChunk(layout, index, data)) {
    throw new ShoalError('ERR_CHUNK_MISMATCH', `chunk ${index} of ${cid} no longer matches its digest on disk; it was not sent`)
  }
  return data
}

/** Index of the file a read names: `path` inside a folder content, or the only file of a one-file content. */
function fileIndexOf (manifest: Manifest, cid: string, path: string | undefined): number {
  if (path === undefined || path === '') {
    if (manifest.files.length === 1) return 0
    const example = manifest.files[0]?.path
    throw new ShoalError('ERR_NO_SUCH_FILE', `${cid} is a folder of ${manifest.files.length} files; name one after the CID${example === undefined ? '' : `, e.g. ${cid}/${example}`}`)
  }
  try {
    validateManifestPath(path)
  } catch (err) {
    if (isShoalError(err)) throw new ShoalError('ERR_BAD_REQUEST', `file path ${JSON.stringify(path)} is not valid: ${err.message}`)
    throw err
  }
  const index = findFile(manifest, path)
  if (index !== undefined) return index
  const what = manifest.directories.includes(path) || manifest.files.some(f => f.path.startsWith(path + '/')) ? 'a folder, not a file' : 'not in it'
  throw new ShoalError('ERR_NO_SUCH_FILE', `${path} is ${what} (content ${cid}); list its files with the manifest`)
}

/**
 * One waiter's wake-up: fire() from any source (a chunk written, the download ending, an abort) ends
 * the current or the next wait(). A fresh promise per wait, so long reads attach nothing to the
 * long-lived promises they wait on.
 */
class Wakeup {
  #fired = false
  #resolve?: () => void

  readonly fire = (): void => {
    this.#fired = true
    this.#resolve?.()
  }

  async wait (): Promise<void> {
    if (!this.#fired) {
      await new Promise<void>(resolve => { this.#resolve = resolve })
      this.#resolve = undefined
    }
    this.#fired = false
  }
}
