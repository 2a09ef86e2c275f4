import type { FileHandle } from 'node:fs/promises'
import { defaultLogger } from '@libp2p/logger'
import type { ComponentLogger, Logger } from '@libp2p/interface'

interface Entry {
  handle: Promise<FileHandle>
  users: number
}

/** Hooks the cache calls to open a handle and before closing one it evicts. */
export interface HandleCacheInit {
  open: (key: number) => Promise<FileHandle>
  /** Runs before an idle handle is closed (e.g. to fdatasync data written through it). */
  beforeClose?: (key: number, handle: FileHandle) => Promise<void>
  max: number
  /** Where to log; the process-wide logger when absent. */
  logger?: ComponentLogger
}

/**
 * A bounded, least-recently-used set of open file handles keyed by file index. Handles are opened
 * lazily and closed only when no operation is using them; when every slot is busy, an operation on
 * another file waits for one to free up.
 */
export class HandleCache {
  readonly #init: HandleCacheInit
  readonly #log: Logger
  readonly #entries = new Map<number, Entry>()
  #closing: Promise<void>[] = []
  #waiters: Array<() => void> = []

  constructor (init: HandleCacheInit) {
    this.#init = init
    this.#log = (init.logger ?? defaultLogger()).forComponent('shoal:store:handles')
  }

  /** Runs `fn` with the open handle of file `key`, opening it when needed (waiting for a free slot). */
  async use<T> (key: number, fn: (handle: FileHandle) => Promise<T>): Promise<T> {
    let entry = this.#entries.get(key)
    while (entry === undefined) {
      if (this.#entries.size + this.#closing.length < this.#init.max) {
        const created: Entry = { handle: this.#init.open(key), users: 0 }
        // A failed open must not stay cached.
        created.handle.catch(() => {
          if (this.#entries.get(key) === created) this.#entries.delete(key)
          this.#wake()
        })
        entry = created
        break
      }
      // Full: start closing the least recently used idle handle, wait for a slot, then look again.
      this.#evictIdle()
      await new Promise<void>(resolve => this.#waiters.push(resolve))
      entry = this.#entries.get(key)
    }
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    entry.users++
    try {
      return await fn(await entry.handle)
    } finally {
      entry.users--
      this.#wake()
    }
  }

  /** Forgets file `key`'s handle (closing it once idle), e.g. after the file turned out to have changed. */
  drop (key: number): void {
    const entry = this.#entries.get(key)
    if (entry === undefined || entry.users > 0) return
    this.#entries.delete(key)
    this.#close(key, entry)
  }

  /** Closes every handle; waits for operations still using them. */
  async closeAll (): Promise<void> {
    const entries = [...this.#entries]
    this.#entries.clear()
    for (const [key, entry] of entries) this.#close(key, entry)
    const closing = this.#closing
    this.#closing = []
    await Promise.allSettled(closing)
  }

  /** Closes the least recently used idle handle; returns false when every handle is busy. */
  #evictIdle (): boolean {
    for (const [key, entry] of this.#entries) {
      if (entry.users > 0) continue
      this.#entries.delete(key)
      this.#close(key, entry)
      return true
    }
    return false
  }

  #wake (): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const resolve of waiters) resolve()
  }

  #close (key: number, entry: Entry): void {
    const done = (async () => {
      // Wait for in-flight users (only during closeAll) before closing underneath them.
      const handle = await entry.handle
      while (entry.users > 0) await new Promise(resolve => setTimeout(resolve, 1))
      try {
        await this.#init.beforeClose?.(key, handle)
      } finally {
        await handle.close()
      }
    })().catch(err => { this.#log('closing handle of file %d failed: %s', key, err) })
    this.#closing.push(done)
    void done.finally(() => {
      this.#closing = this.#closing.filter(p => p !== done)
      this.#wake()
    })
  }
}
