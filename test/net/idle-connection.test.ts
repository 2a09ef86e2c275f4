import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Harness, waitFor } from './helpers.js'
import type { ShoalNetwork } from '../../src/net/index.js'

/** libp2p's ping protocol, which its connection monitor used on every connection. */
const PING_PROTOCOL = '/ipfs/ping/1.0.0'
/** libp2p's connection monitor pinged every connection this often (its default pingInterval). */
const MONITOR_INTERVAL_MS = 10_000
/** kad-dht pings a new routing-table contact once, right after it connects; let that pass first. */
const SETTLE_MS = 3_000

describe('an idle connection between two nodes', () => {
  const h = new Harness()
  let a: ShoalNetwork
  let b: ShoalNetwork
  let inboundPings = 0

  before(async () => {
    a = await h.network()
    await a.start()
    b = await h.network({ bootstrap: [a.multiaddrs[0]!.toString()] })
    await b.start()
    await waitFor('b connected to a', () => a.connectedPeers().length >= 1)
    // count the pings a receives instead of answering them; force: the ping service holds the protocol
    await a.libp2p.handle(PING_PROTOCOL, stream => {
      inboundPings++
      stream.abort(new Error('counted'))
    }, { force: true })
  })
  after(async () => { await h.cleanup() })

  it('carries no periodic ping (the connection monitor is off: it only measured a round trip nothing reads)', async () => {
    await new Promise(resolve => setTimeout(resolve, SETTLE_MS))
    const settled = inboundPings
    await new Promise(resolve => setTimeout(resolve, MONITOR_INTERVAL_MS + 2_000))
    assert.equal(inboundPings - settled, 0, `${inboundPings - settled} ping(s) in ${(MONITOR_INTERVAL_MS + 2_000) / 1000} s of an idle connection`)
    assert.ok(a.connectedPeers().some(p => p.equals(b.peerId)), 'the connection stays open')
  })

  it('still answers an explicit ping (kad-dht needs the ping service)', async () => {
    const rtt = await a.libp2p.services.ping.ping(b.peerId, { signal: AbortSignal.timeout(5_000) })
    assert.ok(rtt >= 0)
  })
})
