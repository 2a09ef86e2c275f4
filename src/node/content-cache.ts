import { mkdir, rm, stat, statfs, unlink } from 'node:fs/promises'
import { dirname, isAbsolute, join, relative } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import { ShoalError } from '../util/shoal-error.js'
import { planEviction } from './cache-policy.js'
import type { CacheCandidate } from './cache-policy.js'
import {
  CACHE_GC_INTERVAL_MS, DEFAULT_GC_HIGH_PERCENT, DEFAULT_GC_LOW_PERCENT, LAST_USE_SAVE_INTERVAL_MS, TEST_HOOK_EVICT_PAUSE_ENV
} from './constants.js'
import type { ContentEntry, HeldContent } from './content-entry.js'
import type { ContentLeases } from './content-leases.js'
import type { ContentMeta, ContentRecords } from './content-records.js'
import type { ContentRegistry } from './content-registry.js'
import { MANAGED_STORE_DIR, managedOutOf } from './managed-store.js'
import type { CacheStats, EvictedContent, EvictionReason, GcOptions, GcReport, ShoalInit } from './types.js'

export interface ContentCacheInit {
  dataDir: string
  records: ContentRecords
  contents: ContentRegistry
  leases: ContentLeases
  policy: Pick<ShoalInit, 'cacheMaxBytes' | 'gcHighPercent' | 'gcLowPercent' | 'cacheTtiMs' | 'cacheTtlMs'>
  /** Told of each content evicted (the node's `evicted` event). */
  onEvicted?: (evicted: EvictedContent) => void
  logger: ComponentLogger
}

/**
 * The managed store as a cache: which of its contents go, and when (see docs/cache.md). Only
 * contents whose files lie under `<dataDir>/store` count and may be evicted; a user's folders are
 * never deleted. An eviction marks the record durably, withdraws the content (LEAVE, stop
 * providing), deletes its files and forgets it; a start finishes off any marked record first.
 */
export class ContentCache {
  readonly #init: ContentCacheInit
  readonly #log: Logger
  readonly #storeDir: string
  readonly #evictions: Record<EvictionReason, number> = { quota: 0, tti: 0, ttl: 0, 'disk-full': 0 }
  /** Contents being evicted now: a fetch of one waits until its files are gone. */
  readonly #evicting = new Map<string, Promise<void>>()
  /** Upload totals seen at the last pass: a peer fetching from us is a use too. */
  readonly #uploadedSeen = new Map<string, number>()
  /** One pass at a time: a limit is measured and enforced without another pass racing it. */
  #queue: Promise<unknown> = Promise.resolve()
  #diskFull?: Promise<boolean>
  #timer?: ReturnType<typeof setInterval>
  #stopped = false

  constructor (init: ContentCacheInit) {
    this.#init = init
    this.#log = init.logger.forComponent('shoal:node:cache')
    this.#storeDir = join(init.dataDir, MANAGED_STORE_DIR)
    const { gcHighPercent: high = DEFAULT_GC_HIGH_PERCENT, gcLowPercent: low = DEFAULT_GC_LOW_PERCENT } = init.policy
    if (!(low >= 0 && high > 0 && high <= 100 && low < high)) {
      throw new ShoalError('ERR_BAD_CONFIG', `GC watermarks low ${low} % and high ${high} % must satisfy 0 <= low < high <= 100; set --gc-low below --gc-high`)
    }
  }

  /**
   * True when `meta` is a download whose files lie in the managed store (the cache's to evict), or
   * content the node itself added there (the registry mirror's blobs from the upstream).
   */
  isManaged (meta: ContentMeta | undefined): boolean {
    if (meta === undefined) return false
    return isInside(this.#storeDir, meta.path)
  }

  /** Finishes evictions a crash interrupted: their files go and their records are forgotten. */
  async finishInterrupted (): Promise<void> {
    for (const meta of await this.#init.records.loadEvicting()) {
      this.#log('finishing the interrupted eviction of %s', meta.cid)
      await this.#deleteFiles(meta)
      await this.#init.records.delete(meta.cid)
    }
  }

  /** Starts the periodic pass (unref'd: it never keeps a process alive). */
  start (): void {
    if (this.#timer !== undefined || this.#stopped) return
    this.#timer = setInterval(() => { this.collectSoon() }, CACHE_GC_INTERVAL_MS)
    this.#timer.unref()
  }

  /** Stops the timer, waits for a pass under way and saves the last uses it knows of. */
  async stop (): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    await this.#queue.catch(() => {})
    await this.#saveLastUses(true).catch(err => { this.#log.error('saving last uses failed: %e', err) })
  }

  /** Runs a pass in the background (after a fetch completes, on the timer). */
  collectSoon (): void {
    if (this.#stopped) return
    this.gc().catch(err => { this.#log.error('cache GC failed: %e', err) })
  }

  /** Resolves once an eviction of `cid` under way (if any) is over, so a fetch never writes into files being deleted. */
  async settled (cid: string): Promise<void> {
    await this.#evicting.get(cid)
  }

  /** One GC pass: what the limits and time-to-idle/live say must go (see planEviction). */
  async gc (options: GcOptions = {}): Promise<GcReport> {
    return await this.#serialized(async () => await this.#pass(options.dryRun === true, false, options.signal))
  }

  /**
   * A write under `root` found the disk full: evicts least recently used contents (at least one) and
   * says whether anything went, so the write may be tried again; nothing when `root` is on another
   * file system than the store. Concurrent callers share one pass.
   */
  async makeRoom (root: string): Promise<boolean> {
    // evicting from the store frees nothing on another file system (a `get -o` elsewhere)
    if (!await this.#onStoreDisk(root)) return false
    this.#diskFull ??= this.#serialized(async () => (await this.#pass(false, true)).evicted.length > 0)
      .catch(err => { this.#log.error('evicting for a full disk failed: %e', err); return false })
      .finally(() => { this.#diskFull = undefined })
    return await this.#diskFull
  }

  async #onStoreDisk (path: string): Promise<boolean> {
    try {
      const [store, other] = await Promise.all([stat(this.#storeDir), stat(path)])
      return store.dev === other.dev
    } catch {
      return false
    }
  }

  /** Pins or unpins a content (persisted in its record). */
  async setPinned (cid: string, pinned: boolean): Promise<void> {
    const entry = this.#init.contents.get(cid)
    if (entry === undefined) throw new ShoalError('ERR_NOT_FOUND', `this node has no content ${cid}; fetch or add it first`)
    const held = entry.held
    if (held === undefined) throw new ShoalError('ERR_NOT_FOUND', `content ${cid} has no record yet (its manifest is still being fetched); pin it once its download has started`)
    if (held.meta.pinned === pinned || (held.meta.pinned === undefined && !pinned)) return
    const meta = { ...held.meta, pinned }
    await this.#init.records.saveMeta(meta)
    held.meta.pinned = pinned
  }

  /** The cache's fields of a content's info. */
  describe (entry: ContentEntry): { managed: boolean, pinned: boolean, lastUsedAt?: number } {
    const meta = entry.held?.meta
    const lastUsedAt = entry.held === undefined ? undefined : this.#lastUse(entry.key, entry.held)
    return { managed: this.isManaged(meta), pinned: meta?.pinned === true, ...(lastUsedAt === undefined ? {} : { lastUsedAt }) }
  }

  stats (): CacheStats {
    let bytes = 0
    let contents = 0
    let pinned = 0
    for (const entry of this.#init.contents.values()) {
      const held = entry.held
      if (held === undefined || !this.isManaged(held.meta)) continue
      bytes += held.manifest.size
      contents++
      if (held.meta.pinned === true) pinned++
    }
    return { bytes, contents, pinned, limitBytes: this.#init.policy.cacheMaxBytes ?? 0, evictions: { ...this.#evictions } }
  }

  async #serialized<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.catch(() => {}).then(fn)
    this.#queue = run
    return await run
  }

  async #pass (dryRun: boolean, diskFull: boolean, signal?: AbortSignal): Promise<GcReport> {
    signal?.throwIfAborted()
    const now = Date.now()
    this.#noteUploads(now)
    await this.#saveLastUses(false)
    const held = new Map<string, { entry: ContentEntry, held: HeldContent }>()
    const candidates: CacheCandidate[] = []
    let heldBytes = 0
    for (const entry of this.#init.contents.values()) {
      const h = entry.held
      if (h === undefined || !this.isManaged(h.meta)) continue
      held.set(entry.key, { entry, held: h })
      heldBytes += h.manifest.size
      candidates.push({ cid: entry.key, bytes: h.manifest.size, lastUsedAt: this.#lastUse(entry.key, h), addedAt: h.meta.addedAt, keep: this.#kept(entry, h) })
    }
    const { usedBytes, capacityBytes } = await this.#usage(heldBytes)
    const { policy } = this.#init
    const plan = planEviction(candidates, {
      usedBytes,
      capacityBytes,
      highPercent: policy.gcHighPercent ?? DEFAULT_GC_HIGH_PERCENT,
      lowPercent: policy.gcLowPercent ?? DEFAULT_GC_LOW_PERCENT,
      ttiMs: policy.cacheTtiMs ?? Infinity,
      ttlMs: policy.cacheTtlMs ?? Infinity,
      now,
      diskFull
    })
    const evicted: EvictedContent[] = []
    for (const { candidate, reason } of plan) {
      const found = held.get(candidate.cid)
      if (found === undefined) continue
      const report: EvictedContent = { cid: candidate.cid, name: found.held.manifest.name, path: found.held.meta.path, bytes: candidate.bytes, reason, lastUsedAt: candidate.lastUsedAt }
      if (dryRun) {
        evicted.push(report)
        continue
      }
      if (signal?.aborted === true || this.#stopped) break
      if (await this.#evict(found.entry, found.held, reason)) {
        evicted.push(report)
        this.#init.onEvicted?.(report)
      }
    }
    if (evicted.length > 0) this.#log('%s %d contents (%d bytes): %s', dryRun ? 'would evict' : 'evicted', evicted.length, evicted.reduce((s, e) => s + e.bytes, 0), evicted.map(e => `${e.cid} (${e.reason})`).join(', '))
    return { dryRun, evicted, freedBytes: evicted.reduce((s, e) => s + e.bytes, 0), heldBytes }
  }

  /** Under a limit: the store's contents against it. Without one: the disk's use against its size. */
  async #usage (heldBytes: number): Promise<{ usedBytes: number, capacityBytes: number }> {
    const limit = this.#init.policy.cacheMaxBytes ?? 0
    if (limit > 0) return { usedBytes: heldBytes, capacityBytes: limit }
    try {
      await mkdir(this.#storeDir, { recursive: true })
      const fs = await statfs(this.#storeDir)
      return { usedBytes: (fs.blocks - fs.bfree) * fs.bsize, capacityBytes: fs.blocks * fs.bsize }
    } catch (err) {
      this.#log.error('cannot measure the disk of %s: %e', this.#storeDir, err)
      return { usedBytes: heldBytes, capacityBytes: 0 }
    }
  }

  /** Pinned, downloading, read by someone, or errored without a store: not evicted now. */
  #kept (entry: ContentEntry, held: HeldContent): boolean {
    const state = entry.phase.state
    return held.meta.pinned === true || entry.download !== undefined || state === 'finding' || state === 'downloading' ||
      this.#init.leases.inUse(entry.key) || this.#evicting.has(entry.key)
  }

  #lastUse (cid: string, held: HeldContent): number {
    return Math.max(held.meta.lastUsedAt ?? 0, held.meta.addedAt, this.#init.leases.lastUsed(cid) ?? 0)
  }

  #noteUploads (now: number): void {
    for (const entry of this.#init.contents.values()) {
      const total = entry.uploaded.total
      if (total > (this.#uploadedSeen.get(entry.key) ?? 0)) {
        this.#uploadedSeen.set(entry.key, total)
        this.#init.leases.touch(entry.key, now)
      }
    }
  }

  /** Writes last uses newer than the record's (by LAST_USE_SAVE_INTERVAL_MS, or any when `all`). */
  async #saveLastUses (all: boolean): Promise<void> {
    for (const entry of this.#init.contents.values()) {
      const held = entry.held
      if (held === undefined || !this.isManaged(held.meta) || this.#evicting.has(entry.key)) continue
      const used = this.#init.leases.lastUsed(entry.key)
      const saved = held.meta.lastUsedAt ?? held.meta.addedAt
      if (used === undefined || used <= saved || (!all && used - saved < LAST_USE_SAVE_INTERVAL_MS)) continue
      try {
        await this.#init.records.saveMeta({ ...held.meta, lastUsedAt: used })
        held.meta.lastUsedAt = used
      } catch (err) {
        // a full disk must not stop the pass that frees it; the use is saved next time
        this.#log('cannot save the last use of %s: %e', entry.key, err)
      }
    }
  }

  async #evict (entry: ContentEntry, held: HeldContent, reason: EvictionReason): Promise<boolean> {
    const cid = entry.key
    if (this.#kept(entry, held)) return false
    let finished = (): void => {}
    this.#evicting.set(cid, new Promise<void>(resolve => { finished = resolve }))
    try {
      // the durable mark first: from here on a crash ends with the content gone, never half-announced
      await this.#init.records.markEvicting(cid)
      if (this.#init.leases.inUse(cid) || entry.download !== undefined || held.meta.pinned === true) {
        // taken by a reader (or pinned) while the mark was written: it stays
        await this.#init.records.unmarkEvicting(cid)
        return false
      }
      await this.#withdrawAndDelete(entry, held, `evicted from the cache (${reason})`)
      this.#evictions[reason]++
      return true
    } catch (err) {
      // the mark stays: the next start finishes the eviction off
      this.#log.error('evicting %s failed: %e', cid, err)
      return false
    } finally {
      this.#evicting.delete(cid)
      finished()
    }
  }

  /**
   * `shoal cancel` of a managed content: nobody but this node knows its files, so they go with it
   * (the same crash-safe steps as an eviction, whatever the pins and leases; not counted as one).
   */
  async discard (entry: ContentEntry, held: HeldContent): Promise<void> {
    await this.#serialized(async () => {
      this.#evicting.set(entry.key, Promise.resolve())
      try {
        await this.#init.records.markEvicting(entry.key).catch((err: NodeJS.ErrnoException) => {
          // no record to mark (it was never saved): nothing for a restart to announce either
          if (err.code !== 'ENOENT') throw err
        })
        await this.#withdrawAndDelete(entry, held, 'content removed')
      } finally {
        this.#evicting.delete(entry.key)
      }
    })
  }

  /** After the mark: withdraws the content (LEAVE, stop providing, store closed), deletes its files, forgets it. */
  async #withdrawAndDelete (entry: ContentEntry, held: HeldContent, why: string): Promise<void> {
    await this.#init.contents.drop(entry, why).catch(err => {
      // closing saves the store's state, which a full disk refuses; the state goes with the files anyway
      this.#log('closing the store of %s before deleting it failed: %e', entry.key, err)
      this.#init.contents.delete(entry)
    })
    await this.#deleteFiles(held.meta, held)
    await this.#init.records.delete(entry.key)
    this.#uploadedSeen.delete(entry.key)
  }

  /** Deletes a managed content's files, file by file, then its folder; refuses anything outside the store. */
  async #deleteFiles (meta: ContentMeta, held?: HeldContent): Promise<void> {
    const out = managedOutOf(this.#init.dataDir, meta.cid)
    if (!this.isManaged(meta) || !isInside(out, meta.path)) {
      this.#log.error('not deleting %s: it is not in the managed store', meta.path)
      return
    }
    const pause = Number(process.env[TEST_HOOK_EVICT_PAUSE_ENV] ?? 0)
    const files = held?.manifest.files ?? []
    for (const [i, file] of files.entries()) {
      await unlink(join(meta.root, file.path)).catch(() => {})
      if (i === 0 && pause > 0) await sleep(pause)
    }
    await rm(out, { recursive: true, force: true })
  }
}

function isInside (dir: string, path: string): boolean {
  const rel = relative(dir, path)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && dirname(path) !== path
}
