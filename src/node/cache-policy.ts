import type { EvictionReason } from './types.js'

/** One content of the managed store as the eviction policy sees it. */
export interface CacheCandidate {
  cid: string
  bytes: number
  /** Last use (a fetch, an HTTP read, a peer fetching from us, a local user), ms since the epoch. */
  lastUsedAt: number
  /** When it entered the store, ms since the epoch (time-to-live counts from here). */
  addedAt: number
  /** Pinned, downloading or leased: never evicted, but its bytes count. */
  keep: boolean
}

/** The limits one pass enforces. Usage and capacity are in bytes of whatever the limit is measured on. */
export interface CachePolicy {
  /** Bytes in use now: the store's contents under a limit, the whole disk without one. */
  usedBytes: number
  /** The limit the watermarks are percentages of (the cache limit, or the disk's size); 0 = none. */
  capacityBytes: number
  highPercent: number
  lowPercent: number
  /** Evict a content idle this long (ms; Infinity = never). */
  ttiMs: number
  /** Evict a content this long after it arrived (ms; Infinity = never). */
  ttlMs: number
  now: number
  /** A write failed for want of space: free down to the low watermark, and at least one content. */
  diskFull?: boolean
}

/** A content the policy chose, with why. */
export interface PlannedEviction {
  candidate: CacheCandidate
  reason: EvictionReason
}

/**
 * What one GC pass evicts, in order: contents past their time-to-live, then idle past their
 * time-to-idle, then least recently used first until usage is at the low watermark (once it went
 * over the high one, or a write hit a full disk). Pure: the caller measured everything.
 */
export function planEviction (candidates: readonly CacheCandidate[], policy: CachePolicy): PlannedEviction[] {
  const plan: PlannedEviction[] = []
  const chosen = new Set<string>()
  const take = (candidate: CacheCandidate, reason: EvictionReason): void => {
    chosen.add(candidate.cid)
    plan.push({ candidate, reason })
  }
  const evictable = candidates.filter(c => !c.keep)
  const lru = [...evictable].sort((a, b) => a.lastUsedAt - b.lastUsedAt || a.addedAt - b.addedAt || (a.cid < b.cid ? -1 : 1))
  for (const c of lru) if (policy.now - c.addedAt >= policy.ttlMs) take(c, 'ttl')
  for (const c of lru) if (!chosen.has(c.cid) && policy.now - c.lastUsedAt >= policy.ttiMs) take(c, 'tti')

  let used = policy.usedBytes - plan.reduce((sum, p) => sum + p.candidate.bytes, 0)
  const { capacityBytes } = policy
  if (capacityBytes <= 0) return plan
  const high = capacityBytes * policy.highPercent / 100
  const low = capacityBytes * policy.lowPercent / 100
  const diskFull = policy.diskFull === true
  if (used <= high && !diskFull) return plan
  let freedForDiskFull = false
  for (const c of lru) {
    if (chosen.has(c.cid)) continue
    if (used <= low && (!diskFull || freedForDiskFull || plan.length > 0)) break
    take(c, diskFull ? 'disk-full' : 'quota')
    used -= c.bytes
    freedForDiskFull = true
  }
  return plan
}
