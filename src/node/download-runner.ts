import { resolve } from 'node:path'
import type { TypedEventEmitter } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { isShoalError, ShoalError } from '../util/shoal-error.js'
import { ContentEntry } from './content-entry.js'
import type { ContentRegistry } from './content-registry.js'
import { Downloader } from './downloader.js'
import type { DownloaderInit } from './downloader.js'
import type { GetOptions, GetResult, ShoalEvents } from './types.js'

export interface DownloadRunnerInit extends Omit<DownloaderInit, 'emit'> {
  contents: ContentRegistry
  /** The node's events: done, error and the downloader's progress go there. */
  events: TypedEventEmitter<ShoalEvents>
  /** True once the node is stopping: failed downloads then stay listed for the next run. */
  stopping(): boolean
}

/**
 * Runs a node's downloads: one per content at a time, joined by later callers, with the entry's
 * phase moved along (finding -> downloading -> seeding, or stopped / error).
 */
export class DownloadRunner {
  readonly #init: DownloadRunnerInit
  readonly #downloader: Downloader

  constructor (init: DownloadRunnerInit) {
    this.#init = init
    this.#downloader = new Downloader({ ...init, emit: (event, detail) => { init.events.safeDispatchEvent(event, { detail }) } })
  }

  /** At start: announces every complete content and resumes every download an earlier run left unfinished. */
  resumeAll (): void {
    for (const entry of this.#init.contents.values()) {
      const { held } = entry
      if (held === undefined || entry.phase.state === 'error') continue
      if (held.store.complete) {
        entry.toHeld(held, this.#init.publish(entry, held))
      } else {
        entry.download = this.run(entry, held.meta.root, {})
        entry.download.catch(() => {})
      }
    }
  }

  /**
   * Fetches `cid` into `options.out`. `background`: nobody awaits the result (the control API's
   * downloads), so a failure stays listed as state 'error' with its code for the client that polls;
   * a caller of get() gets the rejection.
   */
  async get (cid: CID, options: GetOptions, background: boolean): Promise<GetResult> {
    const { contents } = this.#init
    const key = cid.toString()
    let entry = contents.get(key)
    if (entry?.phase.state === 'error') {
      await contents.drop(entry)
      entry = undefined
    }
    const onProgress = options.onProgress
    const listener = onProgress === undefined ? undefined : ({ detail }: ShoalEvents['progress']): void => { if (detail.cid === key) onProgress(detail) }
    if (listener !== undefined) this.#init.events.addEventListener('progress', listener)
    try {
      if (entry === undefined) {
        entry = new ContentEntry(cid)
        contents.set(entry)
        entry.download = this.run(entry, resolve(options.out ?? '.'), options, background)
      } else if (entry.download === undefined) {
        // held already: seeded here, or downloaded before
        const held = entry.held
        if (held?.store.complete === true) return { cid: key, path: held.meta.path, size: held.manifest.size, fetchedChunks: 0, elapsedMs: 0 }
        // stopped part-way by an earlier abort: continue into the store it already has
        entry.download = this.run(entry, resolve(options.out ?? '.'), options, background)
      }
      return await abortable(entry.download, options.signal)
    } finally {
      if (listener !== undefined) this.#init.events.removeEventListener('progress', listener)
    }
  }

  /** One download of `entry`; `keepOnFailure` keeps a failed entry that holds nothing listed. */
  run (entry: ContentEntry, out: string, options: GetOptions, keepOnFailure = false): Promise<GetResult> {
    const go = async (): Promise<GetResult> => {
      entry.restart()
      const signal = options.signal === undefined ? entry.controller.signal : AbortSignal.any([entry.controller.signal, options.signal])
      try {
        const result = await this.#downloader.download(entry, out, { ...options, signal })
        const held = entry.held
        if (held !== undefined) entry.toHeld(held, entry.announced)
        this.#init.events.safeDispatchEvent('done', { detail: result })
        return result
      } catch (err) {
        const error = isShoalError(err) ? err : new ShoalError('ERR_INTERNAL', err instanceof Error ? err.message : String(err), { cause: err })
        // a caller's abort stops the download like remove/stop do: resumable, not failed
        if (signal.aborted) entry.toStopped()
        else entry.toError(error)
        // nothing stored yet: forget it, unless a background download failed and must say why
        if (entry.held === undefined && !this.#init.stopping() && !(keepOnFailure && !signal.aborted)) this.#init.contents.delete(entry)
        this.#init.events.safeDispatchEvent('error', { detail: { cid: entry.key, error } })
        throw error
      } finally {
        entry.download = undefined
      }
    }
    return go()
  }
}

/** Waits for `promise` unless `signal` aborts first (the work itself goes on). */
async function abortable<T> (promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return await promise
  signal.throwIfAborted()
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(new ShoalError('ERR_ABORTED', 'interrupted')) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}
