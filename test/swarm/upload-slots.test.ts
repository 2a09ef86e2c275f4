import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { UploadSlots } from '../../src/swarm/upload-slots.js'

function clock (): { now: () => number, advance: (ms: number) => void } {
  let t = 0
  return { now: () => t, advance: ms => { t += ms } }
}

describe('UploadSlots', () => {
  it('admits at most N peers at once and answers others busy', () => {
    const c = clock()
    const slots = new UploadSlots({ slots: 2, now: c.now })
    assert.equal(slots.acquire('a'), 'ok')
    assert.equal(slots.acquire('b'), 'ok')
    assert.equal(slots.acquire('a'), 'ok', 'a holder keeps its slot')
    assert.equal(slots.acquire('c'), 'busy')
    assert.deepEqual(slots.holders.sort(), ['a', 'b'])
  })

  it('serves a peer without a slot when the uplink would idle, and keeps it in line', () => {
    const c = clock()
    const slots = new UploadSlots({ slots: 1, idleMs: 100, reserveMs: 50, now: c.now })
    assert.equal(slots.acquire('a'), 'ok')
    assert.equal(slots.acquire('b', { uplinkIdle: false }), 'busy')
    assert.equal(slots.acquire('b', { uplinkIdle: true }), 'ok', 'nothing queued: a refusal would leave the uplink idle')
    assert.deepEqual(slots.holders, ['a'], 'the request was served without a slot')
    c.advance(110)
    assert.equal(slots.acquire('c'), 'busy', 'a went idle; its slot is reserved for b, which waited first')
    assert.equal(slots.acquire('b'), 'ok')
  })

  it('frees idle slots and hands them to the longest waiter first', () => {
    const c = clock()
    const slots = new UploadSlots({ slots: 1, idleMs: 100, reserveMs: 50, now: c.now })
    assert.equal(slots.acquire('a'), 'ok')
    assert.equal(slots.acquire('w1'), 'busy')
    c.advance(10)
    assert.equal(slots.acquire('w2'), 'busy')
    c.advance(50)
    assert.equal(slots.acquire('w2'), 'busy', 'a is not idle yet')
    c.advance(60)
    assert.equal(slots.acquire('w2'), 'busy', 'a is idle, its slot is reserved for w1')
    assert.equal(slots.acquire('w1'), 'ok')
    assert.deepEqual(slots.holders, ['w1'])
  })

  it('reserves a freed slot for the first waiter, then passes it on if unclaimed', () => {
    const c = clock()
    const slots = new UploadSlots({ slots: 1, idleMs: 100, reserveMs: 50, waiterTtlMs: 1000, now: c.now })
    slots.acquire('a')
    slots.acquire('w1')
    c.advance(1)
    slots.acquire('w2')
    slots.release('a')
    assert.equal(slots.acquire('w2'), 'busy', 'reserved for w1')
    assert.equal(slots.acquire('newcomer'), 'busy', 'no queue jumping')
    c.advance(60)
    assert.equal(slots.acquire('w1'), 'busy', 'w1 let its reservation lapse; it passed to w2')
    assert.equal(slots.acquire('w2'), 'ok')
  })

  it('rotates a long holder out when others wait', () => {
    const c = clock()
    const slots = new UploadSlots({ slots: 1, maxHoldMs: 1000, idleMs: 10_000, now: c.now })
    assert.equal(slots.acquire('a'), 'ok')
    assert.equal(slots.acquire('b'), 'busy')
    for (let t = 0; t < 9; t++) { c.advance(100); assert.equal(slots.acquire('a'), 'ok'); slots.acquire('b') }
    c.advance(100)
    assert.equal(slots.acquire('a'), 'busy', 'held 1 s while b waited')
    assert.equal(slots.acquire('b'), 'ok')
  })

  it('shares slots fairly among many peers that keep asking', () => {
    const c = clock()
    const slots = new UploadSlots({ slots: 2, maxHoldMs: 500, idleMs: 10_000, reserveMs: 200, now: c.now })
    const served = new Map<string, number>()
    const peers = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5']
    for (let step = 0; step < 600; step++) {
      c.advance(10)
      const peer = peers[step % peers.length]!
      if (slots.acquire(peer) === 'ok') served.set(peer, (served.get(peer) ?? 0) + 1)
    }
    const counts = peers.map(p => served.get(p) ?? 0)
    assert.ok(Math.min(...counts) > 0.5 * Math.max(...counts), `uneven service ${counts.join(',')}`)
  })
})
