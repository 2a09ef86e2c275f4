import { ShoalError } from '../util/shoal-error.js'
import type { ContentEntry } from './content-entry.js'
import type { ContentInfo } from './types.js'

/** The contents a node holds or fetches, by CID string, and how one leaves. */
export class ContentRegistry {
  readonly #entries = new Map<string, ContentEntry>()
  /** Leaves the content's gossip topic and stops providing it (set once the node is started). */
  withdraw: (entry: ContentEntry) => Promise<void> = async () => {}

  get size (): number {
    return this.#entries.size
  }

  get (key: string): ContentEntry | undefined {
    return this.#entries.get(key)
  }

  set (entry: ContentEntry): void {
    this.#entries.set(entry.key, entry)
  }

  /** Forgets `entry` without closing anything (a failed get that holds nothing). */
  delete (entry: ContentEntry): void {
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key)
  }

  values (): IterableIterator<ContentEntry> {
    return this.#entries.values()
  }

  list (): ContentInfo[] {
    return [...this.#entries.values()].map(e => e.info())
  }

  /** Stops the content's download and announcements, closes its store and forgets it. */
  async drop (entry: ContentEntry, reason = 'content removed'): Promise<void> {
    entry.controller.abort(new ShoalError('ERR_ABORTED', reason))
    await entry.download?.catch(() => {})
    await this.withdraw(entry)
    await entry.held?.store.close()
    this.delete(entry)
  }

  /** Node stop: aborts every download and waits for them, then closes every store (after `between`). */
  async closeAll (between: () => Promise<void>): Promise<void> {
    const entries = [...this.#entries.values()]
    for (const entry of entries) entry.controller.abort(new ShoalError('ERR_ABORTED', 'node stopping'))
    await Promise.allSettled(entries.map(async e => await e.download))
    await between()
    await Promise.allSettled(entries.map(async e => { await e.held?.store.close() }))
  }
}
