import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Bitfield } from '../../src/util/bitfield.js'
import { Harness, cidOf, viewOf, waitFor } from './helpers.js'
import type { HaveAnnouncer, ShoalNetwork } from '../../src/net/index.js'

describe('ShoalNetwork: 1 bootstrap + 6 nodes on loopback', () => {
  const h = new Harness()
  let boot: ShoalNetwork
  const nodes: ShoalNetwork[] = []
  const CHUNKS = 100

  before(async () => {
    boot = await h.network()
    await boot.start()
    const bootAddr = boot.multiaddrs[0]!.toString()
    for (let i = 0; i < 6; i++) nodes.push(await h.network({ bootstrap: [bootAddr] }))
    await Promise.all(nodes.map(async n => n.start()))
    await waitFor('every node connected to the bootstrap node', () => boot.connectedPeers().length >= 6)
  })
  after(async () => { await h.cleanup() })

  it('finds a provider from every other node', async () => {
    const cid = await cidOf('provided-by-node-0')
    await waitFor('node 0 provides to at least one DHT server', async () => (await nodes[0]!.provide(cid)) > 0, 20_000)
    const results = await Promise.all(nodes.slice(1).map(async n => n.findProviders(cid, { timeoutMs: 10_000, maxProviders: 1 })))
    for (const [i, found] of results.entries()) {
      assert.ok(found.some(p => p.id.equals(nodes[0]!.peerId)), `node ${i + 1} did not find node 0 as a provider`)
      assert.ok(!found.some(p => p.id.equals(nodes[i + 1]!.peerId)), 'findProviders returned self')
    }
  })

  it('a HAVE reaches every subscribed node and a LEAVE removes the peer', async () => {
    const cid = (await cidOf('gossip-content')).toString()
    const announcers: HaveAnnouncer[] = nodes.map(n => n.joinContent(cid, CHUNKS, new Bitfield(CHUNKS)))
    const views = announcers.map(viewOf)
    boot.joinContent(cid, CHUNKS) // the bootstrap node routes the topic too
    const origin = nodes[0]!.peerId.toString()
    // Let the mesh form: every node must see the others' subscriptions before publishing.
    await waitFor('topic subscribers known', () => nodes.every(n => n.libp2p.services.pubsub.getSubscribers(announcers[0]!.topic).length >= 1))
    const haveSeen = new Set<number>()
    announcers.slice(1).forEach((a, i) => { a.addEventListener('have', ({ detail: { peer, indexes } }) => {
      if (peer === origin && indexes.includes(7) && indexes.includes(42)) haveSeen.add(i)
    }) })
    announcers[0]!.announceHave(7)
    announcers[0]!.announceHave(42)
    await waitFor('every node sees chunks 7 and 42 at node 0', () =>
      views.slice(1).every(v => v.peerHas(origin, 7) && v.peerHas(origin, 42)))
    await waitFor('every node got the batched HAVE event', () => haveSeen.size === 5)
    for (const v of views.slice(1)) assert.equal(v.peerHas(origin, 8), false)

    const leaves: string[] = []
    announcers.slice(1).forEach(a => { a.addEventListener('leave', ({ detail: { peer } }) => { if (peer === origin) leaves.push(peer) }) })
    await nodes[0]!.leaveContent(cid)
    await waitFor('every node dropped node 0 from its view', () => views.slice(1).every(v => v.bitfield(origin) === undefined) && announcers.slice(1).every(a => !a.isMember(origin)))
    assert.equal(leaves.length, 5)
  })
})
