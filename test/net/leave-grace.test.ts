import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { LEAVE_GRACE_MS } from '../../src/net/constants.js'
import { Bitfield } from '../../src/util/bitfield.js'
import { Harness, cidOf, waitFor } from './helpers.js'
import type { LeaveReason, ShoalNetwork } from '../../src/net/index.js'

const CHUNKS = 16

function full (): Bitfield {
  const bits = new Bitfield(CHUNKS)
  bits.setAll()
  return bits
}

// A member that unsubscribes or disconnects is forgotten after LEAVE_GRACE_MS, not at once: a LEAVE
// sent before the unsubscribe or the hang-up can be delivered after it (its signature is checked
// first), and should still be what the others see. Two real nodes on loopback.
describe('HaveAnnouncer: a departing member is forgotten after the grace', () => {
  const harness = new Harness()
  let a: ShoalNetwork
  let b: ShoalNetwork
  let cid: string

  before(async () => {
    a = await harness.network()
    await a.start()
    b = await harness.network({ bootstrap: a.multiaddrs.map(m => m.toString()) })
    await b.start()
    cid = (await cidOf('leave-grace')).toString()
  })
  after(async () => { await harness.cleanup() })

  it('keeps a member that unsubscribes and subscribes again within the grace', async () => {
    const watcher = a.joinContent(cid, CHUNKS, new Bitfield(CHUNKS))
    b.joinContent(cid, CHUNKS, full())
    await waitFor('b is a member at a', () => watcher.isMember(b.peerId))
    const leaves: LeaveReason[] = []
    watcher.addEventListener('leave', ({ detail }) => { if (detail.peer === b.peerId.toString()) leaves.push(detail.reason) })
    const pubsub = b.libp2p.services.pubsub
    pubsub.unsubscribe(watcher.topic)
    await waitFor('a sees the unsubscribe', () => !a.libp2p.services.pubsub.getSubscribers(watcher.topic).some(p => p.equals(b.peerId)))
    pubsub.subscribe(watcher.topic)
    await waitFor('a sees the subscribe again', () => a.libp2p.services.pubsub.getSubscribers(watcher.topic).some(p => p.equals(b.peerId)))
    await new Promise(resolve => setTimeout(resolve, 2 * LEAVE_GRACE_MS))
    assert.deepEqual(leaves, [], 'no leave was reported')
    assert.equal(watcher.isMember(b.peerId), true)
    await b.leaveContent(cid)
    await waitFor('the LEAVE is reported', () => leaves.length === 1)
    assert.deepEqual(leaves, ['leave'])
    await a.leaveContent(cid)
  })

  it('forgets a member whose node went away without a LEAVE once the grace is over, by disconnect', async () => {
    // a third node whose libp2p stops outright, as a crashed process would: no LEAVE, no redial
    const c = await harness.network({ bootstrap: a.multiaddrs.map(m => m.toString()) })
    await c.start()
    const watcher = a.joinContent(cid, CHUNKS, new Bitfield(CHUNKS))
    c.joinContent(cid, CHUNKS, full())
    await waitFor('c is a member at a', () => watcher.isMember(c.peerId))
    const leaves: LeaveReason[] = []
    watcher.addEventListener('leave', ({ detail }) => { if (detail.peer === c.peerId.toString()) leaves.push(detail.reason) })
    const gone = performance.now()
    await c.libp2p.stop()
    await waitFor('the departure is reported', () => leaves.length === 1)
    assert.deepEqual(leaves, ['disconnect'])
    assert.ok(performance.now() - gone >= LEAVE_GRACE_MS - 2, 'not before the grace')
    assert.equal(watcher.isMember(c.peerId), false)
    await a.leaveContent(cid)
  })
})
