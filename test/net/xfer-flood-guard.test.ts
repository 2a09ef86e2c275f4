import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FloodGuard } from '../../src/net/xfer/flood-guard.js'

const PEER = '12D3KooWPeerA'

describe('FloodGuard', () => {
  const options = { maxStreamsPerPeer: 4, strikes: 3, refusalMs: 60_000, maxTracked: 2 }

  it('accepts streams up to the per-peer bound, then refuses', () => {
    const guard = new FloodGuard(options)
    assert.equal(guard.refusal(PEER, 3), undefined)
    assert.match(guard.refusal(PEER, 4) ?? '', /already holds 4/)
  })

  it('reports the first strike once, refuses from the last one until the refusal ends', () => {
    const guard = new FloodGuard(options)
    const now = 1_000_000
    assert.equal(guard.strike(PEER, now), 'first')
    assert.equal(guard.strike(PEER, now), 'counted')
    assert.equal(guard.refusal(PEER, 0, now), undefined)
    assert.equal(guard.strike(PEER, now), 'refused')
    assert.match(guard.refusal(PEER, 0, now + 1) ?? '', /flooded/)
    // strikes while refused change nothing (nothing more to log)
    assert.equal(guard.strike(PEER, now + 2), 'counted')
    assert.equal(guard.refusal(PEER, 0, now + 60_001), undefined)
    // the record was forgotten: a new flood starts from a first strike
    assert.equal(guard.strike(PEER, now + 60_002), 'first')
  })

  it('remembers at most maxTracked peers, forgetting the oldest', () => {
    const guard = new FloodGuard(options)
    const now = 5_000
    for (let i = 0; i < 3; i++) guard.strike(PEER, now)
    guard.strike('B', now)
    guard.strike('C', now)
    // PEER was the oldest record and is forgotten, refusal included
    assert.equal(guard.refusal(PEER, 0, now), undefined)
    assert.equal(guard.strike('B', now), 'counted')
  })
})
