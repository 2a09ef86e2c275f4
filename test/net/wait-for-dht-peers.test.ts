import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { waitForDhtPeers } from '../../src/net/wait-for-dht-peers.js'
import type { KadDHT } from '@libp2p/kad-dht'

/** Only the routing table's size is read; the rest of the service is never touched. */
function dhtWith (table: { size: number }): KadDHT {
  return { routingTable: table } as unknown as KadDHT
}

describe('waitForDhtPeers', () => {
  it('resolves at once when the routing table has a peer', async () => {
    await waitForDhtPeers(dhtWith({ size: 1 }), AbortSignal.timeout(1_000))
  })

  it('waits until the first peer is added', async () => {
    const table = { size: 0 }
    let resolved = false
    const waiting = waitForDhtPeers(dhtWith(table), AbortSignal.timeout(5_000)).then(() => { resolved = true })
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.equal(resolved, false, 'an empty routing table is waited on')
    table.size = 1
    await waiting
    assert.equal(resolved, true)
  })

  it('gives up with the signal', async () => {
    const controller = new AbortController()
    const waiting = waitForDhtPeers(dhtWith({ size: 0 }), controller.signal)
    controller.abort(new Error('stop'))
    await assert.rejects(waiting, /stop|abort/i)
  })
})
