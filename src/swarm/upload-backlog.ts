import { DEFAULT_UPLOAD_BACKLOG_HORIZON_MS, UPLOAD_IDLE_BACKLOG } from './constants.js'

export interface UploadBacklogInit {
  /** An admitted upload not reported sent within this long is forgotten (it was cancelled or its stream died). */
  horizonMs?: number
  /** Clock in ms, for tests. Default performance.now. */
  now?: () => number
}

/**
 * The chunk uploads a node admitted and has not finished sending, to tell when its uplink is about
 * to idle: then a refusal (an upload slot, a first-copy rule) would waste uplink time for good, and
 * the request is better served. Uploads that end without being sent (a CANCEL, a closed stream) are
 * never reported, so each admission is forgotten after `horizonMs`: until then the uplink counts as
 * busy, which only means the node refuses as it did before.
 */
export class UploadBacklog {
  readonly #horizonMs: number
  readonly #now: () => number
  /** `${peer} ${key}` -> admitted at, oldest first (a Map keeps insertion order). */
  readonly #admitted = new Map<string, number>()

  constructor (init: UploadBacklogInit = {}) {
    this.#horizonMs = init.horizonMs ?? DEFAULT_UPLOAD_BACKLOG_HORIZON_MS
    this.#now = init.now ?? (() => performance.now())
  }

  /** Uploads admitted and not yet sent (after forgetting the stale ones). */
  get size (): number {
    this.#expire()
    return this.#admitted.size
  }

  /** True when at most the upload on the wire is left: one more request keeps the uplink busy. */
  get idle (): boolean {
    return this.size <= UPLOAD_IDLE_BACKLOG
  }

  /** An upload of `key` (content and chunk) to `peer` was admitted. */
  admitted (peer: string, key: string): void {
    const id = `${peer} ${key}`
    // re-admitted: it moves to the end, with the new time
    this.#admitted.delete(id)
    this.#admitted.set(id, this.#now())
  }

  /** The upload of `key` to `peer` was sent. */
  sent (peer: string, key: string): void {
    this.#admitted.delete(`${peer} ${key}`)
  }

  /** `peer` disconnected: none of its uploads will be sent. */
  removePeer (peer: string): void {
    const prefix = `${peer} `
    for (const id of this.#admitted.keys()) if (id.startsWith(prefix)) this.#admitted.delete(id)
  }

  #expire (): void {
    const oldest = this.#now() - this.#horizonMs
    for (const [id, at] of this.#admitted) {
      if (at > oldest) break
      this.#admitted.delete(id)
    }
  }
}
