import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { planEviction } from '../../src/node/cache-policy.js'
import type { CacheCandidate, CachePolicy } from '../../src/node/cache-policy.js'

const MB = 1024 * 1024

function c (cid: string, lastUsedAt: number, keep = false, bytes = MB): CacheCandidate {
  return { cid, bytes, lastUsedAt, addedAt: 0, keep }
}

function policy (over: Partial<CachePolicy> = {}): CachePolicy {
  return { usedBytes: 0, capacityBytes: 10 * MB, highPercent: 90, lowPercent: 50, ttiMs: Infinity, ttlMs: Infinity, now: 1000, ...over }
}

describe('planEviction', () => {
  it('does nothing at or under the high watermark', () => {
    assert.deepEqual(planEviction([c('a', 1), c('b', 2)], policy({ usedBytes: 9 * MB })), [])
  })

  it('over the high watermark: least recently used first, down to the low one, skipping kept contents', () => {
    const all = [c('new', 900), c('old', 100), c('pinned', 1, true), c('mid', 500), c('newer', 950)]
    const plan = planEviction(all, policy({ usedBytes: 9.5 * MB }))
    // 9.5 -> 8.5 (old) -> 7.5 (mid) -> 6.5 (new) -> 5.5 (newer): still over 5, but nothing else may go
    assert.deepEqual(plan.map(p => [p.candidate.cid, p.reason]), [['old', 'quota'], ['mid', 'quota'], ['new', 'quota'], ['newer', 'quota']])
    const some = planEviction(all, policy({ usedBytes: 9.5 * MB, lowPercent: 80 }))
    assert.deepEqual(some.map(p => p.candidate.cid), ['old', 'mid'])
  })

  it('time-to-live and time-to-idle evict whatever the usage, kept contents excepted', () => {
    const all = [{ ...c('aged', 990), addedAt: 0 }, { ...c('idle', 100), addedAt: 800 }, { ...c('fresh', 990), addedAt: 900 }, c('pinned', 0, true)]
    const plan = planEviction(all, policy({ ttlMs: 1000, ttiMs: 500 }))
    assert.deepEqual(plan.map(p => [p.candidate.cid, p.reason]), [['aged', 'ttl'], ['idle', 'tti']])
  })

  it('a full disk frees at least one content even under the low watermark', () => {
    const plan = planEviction([c('b', 2), c('a', 1)], policy({ usedBytes: 2 * MB, diskFull: true }))
    assert.deepEqual(plan.map(p => [p.candidate.cid, p.reason]), [['a', 'disk-full']])
    assert.deepEqual(planEviction([c('a', 1, true)], policy({ usedBytes: 2 * MB, diskFull: true })), [])
  })

  it('no capacity known: only the time limits apply', () => {
    assert.deepEqual(planEviction([c('a', 1)], policy({ usedBytes: 100 * MB, capacityBytes: 0 })), [])
  })
})
