import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { rareRequest } from '../../src/swarm/rare-request.js'
import { RARE_ADMIT_BACKLOG, RARE_ADMIT_HOLDERS } from '../../src/swarm/constants.js'
import { UploadSlots } from '../../src/swarm/upload-slots.js'

describe('rareRequest', () => {
  it('is off by default (RARE_ADMIT_HOLDERS 0)', () => {
    assert.equal(RARE_ADMIT_HOLDERS, 0)
    assert.equal(rareRequest(0, 0), false)
  })

  it('a chunk at most `holders` peers hold is rare while the backlog is short', () => {
    const on = { holders: 2 }
    assert.equal(rareRequest(0, 0, on), true)
    assert.equal(rareRequest(2, RARE_ADMIT_BACKLOG - 1, on), true)
    assert.equal(rareRequest(3, 0, on), false, 'held widely: the slots decide')
    assert.equal(rareRequest(0, RARE_ADMIT_BACKLOG, on), false, 'the queue it would add to is long enough')
  })

  it('takes its limits from init; holders 0 turns it off', () => {
    assert.equal(rareRequest(4, 0, { holders: 4 }), true)
    assert.equal(rareRequest(0, 0, { holders: 0 }), false)
    assert.equal(rareRequest(0, 7, { holders: 2, backlog: 8 }), true)
  })
})

describe('UploadSlots: rare requests', () => {
  it('serves a request for a rare chunk without a free slot, and keeps the peer in line', () => {
    const slots = new UploadSlots({ slots: 1, now: () => 0 })
    assert.equal(slots.acquire('a'), 'ok')
    assert.equal(slots.acquire('b'), 'busy')
    assert.equal(slots.acquire('b', { rare: rareRequest(1, 2, { holders: 2 }) }), 'ok', 'a chunk one other peer holds passes the full slots')
    assert.equal(slots.acquire('b', { rare: rareRequest(5, 2, { holders: 2 }) }), 'busy', 'a common one does not')
    assert.deepEqual(slots.holders, ['a'], 'served without taking a slot')
  })
})
