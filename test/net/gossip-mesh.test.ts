import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { haveTopic, netConstants } from '../../src/net/index.js'
import { Harness, waitFor } from './helpers.js'
import type { HaveAnnouncer, ShoalNetwork } from '../../src/net/index.js'

const CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const CHUNKS = 16
const NODES = 8

// Every member of a small swarm connected to every other, as in the bench: flood publishing reaches
// each member directly, so the mesh must stay small (its forwards are copies), yet still carry
// every announcement.
/** The peers in `net`'s mesh for the topic (the implementation has it; the service's type does not). */
function meshSize (net: ShoalNetwork): number {
  return (net.libp2p.services.pubsub as unknown as { getMeshPeers: (topic: string) => string[] }).getMeshPeers(haveTopic(CID)).length
}

describe('GossipSub mesh of a fully connected swarm', () => {
  const h = new Harness()
  const nets: ShoalNetwork[] = []
  const announcers: HaveAnnouncer[] = []

  before(async () => {
    for (let i = 0; i < NODES; i++) nets.push(await h.network())
    await Promise.all(nets.map(async n => { await n.start() }))
    for (let i = 0; i < NODES; i++) {
      for (let j = i + 1; j < NODES; j++) await nets[i]!.libp2p.dial(nets[j]!.multiaddrs[0]!)
    }
    for (const n of nets) announcers.push(n.joinContent(CID, CHUNKS))
    await waitFor('every member sees every other subscribed', () =>
      nets.every(n => n.libp2p.services.pubsub.getSubscribers(haveTopic(CID)).length === NODES - 1))
  })

  after(async () => { await h.cleanup() })

  it('keeps at most GOSSIP_MESH_D_HIGH mesh peers per member and delivers every HAVE to all', async () => {
    // GossipSub grafts and prunes in its 1 s heartbeat: give it a few
    await waitFor('meshes formed', () => nets.every(n => meshSize(n) >= netConstants.GOSSIP_MESH_D_LOW), 15_000)
    await new Promise(resolve => setTimeout(resolve, 3_000))
    const sizes = nets.map(meshSize)
    assert.ok(sizes.every(s => s >= 1 && s <= netConstants.GOSSIP_MESH_D_HIGH), `mesh sizes ${sizes.join(', ')}`)

    const got = announcers.map(() => new Set<number>())
    announcers.forEach((a, k) => {
      a.addEventListener('have', evt => {
        if (evt.detail.peer === nets[0]!.peerId.toString()) for (const i of evt.detail.indexes) got[k]!.add(i)
      })
    })
    announcers[0]!.announceHave(5)
    await announcers[0]!.flush()
    await waitFor('every member got the HAVE', () => got.slice(1).every(s => s.has(5)))
  })
})
