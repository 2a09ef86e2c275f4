import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SeedPolicy } from '../../src/swarm/seed-policy.js'

describe('SeedPolicy', () => {
  it('seeds forever by default', () => {
    const p = new SeedPolicy()
    assert.equal(p.shouldStop({ elapsedMs: 1e12, uploadedBytes: 1e12, contentBytes: 1 }), false)
    assert.equal(p.remainingMs(5), Infinity)
  })

  it('stops at whichever limit comes first', () => {
    const p = new SeedPolicy({ seedTimeMs: 1000, seedRatio: 2 })
    assert.equal(p.shouldStop({ elapsedMs: 999, uploadedBytes: 199, contentBytes: 100 }), false)
    assert.equal(p.shouldStop({ elapsedMs: 1000, uploadedBytes: 0, contentBytes: 100 }), true)
    assert.equal(p.shouldStop({ elapsedMs: 10, uploadedBytes: 200, contentBytes: 100 }), true)
    assert.equal(p.remainingMs(400), 600)
  })

  it('seedTimeMs 0 leaves at once; negative limits are refused', () => {
    assert.equal(new SeedPolicy({ seedTimeMs: 0 }).shouldStop({ elapsedMs: 0, uploadedBytes: 0, contentBytes: 1 }), true)
    assert.throws(() => new SeedPolicy({ seedRatio: -1 }), RangeError)
  })
})
