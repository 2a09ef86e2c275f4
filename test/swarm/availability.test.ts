import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Availability } from '../../src/swarm/availability.js'
import { Bitfield } from '../../src/util/bitfield.js'

function field (n: number, indexes: number[]): Bitfield {
  const b = new Bitfield(n)
  for (const i of indexes) b.set(i)
  return b
}

describe('Availability', () => {
  it('sums what every known peer holds through bitfields, haves, refusals, removals and bans', () => {
    const a = new Availability(10)
    a.peerBitfield('a', field(10, [0, 1, 9]))
    a.peerBitfield('b', field(10, [1, 2]))
    assert.equal(a.heldTotal, 5)
    a.peerHave('b', [2, 3])
    a.peerBitfield('a', field(10, [0]))
    a.peerLacks('b', 1)
    assert.equal(a.heldTotal, 3, 'a: 0; b: 2, 3')
    a.ban('b')
    assert.equal(a.heldTotal, 1)
    a.peerHave('b', [4, 5])
    assert.equal(a.heldTotal, 1, 'a banned peer adds nothing')
    a.removePeer('a')
    assert.equal(a.heldTotal, 0)
  })

  it('counts holders from bitfields, haves and removals, and tells the observer', () => {
    const events: string[] = []
    const a = new Availability(10, {
      availabilityIncreased: i => events.push(`+${i}`),
      availabilityDecreased: i => events.push(`-${i}`)
    })
    a.peerBitfield('a', field(10, [0, 1, 9]))
    a.peerBitfield('b', field(10, [1, 2]))
    assert.deepEqual([0, 1, 2, 9].map(i => a.count(i)), [1, 2, 1, 1])
    assert.deepEqual(a.peerHave('b', [2, 3, 3, 42]), [3], 'known and out-of-range indexes are ignored')
    assert.equal(a.count(3), 1)
    events.length = 0
    a.peerBitfield('a', field(10, [0, 5]))
    assert.deepEqual(events.sort(), ['+5', '-1', '-9'])
    assert.equal(a.count(1), 1)
    assert.ok(a.removePeer('b'))
    assert.equal(a.removePeer('b'), false)
    assert.deepEqual([0, 1, 2, 3, 5].map(i => a.count(i)), [1, 0, 0, 0, 1])
    assert.equal(a.peerHas('a', 5), true)
    a.peerLacks('a', 5)
    assert.equal(a.count(5), 0)
    assert.deepEqual([...a.peers()], ['a'])
  })

  it('tells a late observer what is known, then every change; a banned peer counts for nothing', () => {
    const a = new Availability(8)
    a.peerBitfield('a', field(8, [0, 1]))
    a.peerBitfield('b', field(8, [1]))
    const seen: string[] = []
    const detach = a.observe({
      availabilityIncreased: (i, peer) => seen.push(`+${i}${peer}`),
      availabilityDecreased: (i, peer) => seen.push(`-${i}${peer}`)
    })
    assert.deepEqual(seen.sort(), ['+0a', '+1a', '+1b'])
    seen.length = 0
    a.ban('a')
    assert.deepEqual(seen.sort(), ['-0a', '-1a'])
    assert.equal(a.isBanned('a'), true)
    assert.deepEqual(a.peerHave('a', [3]), [])
    a.peerBitfield('a', field(8, [0, 1, 2]))
    a.addPeer('a')
    assert.deepEqual([0, 1, 2, 3].map(i => a.count(i)), [0, 1, 0, 0])
    assert.deepEqual([...a.peers()], ['b'])
    detach()
    a.peerHave('b', [5])
    assert.deepEqual(seen.sort(), ['-0a', '-1a'], 'a detached observer hears nothing')
  })

  it('rejects a bitfield of the wrong length', () => {
    assert.throws(() => new Availability(10).peerBitfield('a', new Bitfield(9)), RangeError)
  })
})
