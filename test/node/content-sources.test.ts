import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ContentSources, peerShare } from '../../src/node/content-sources.js'
import { PeerByteCounts } from '../../src/node/peer-byte-counts.js'

describe('bytes by source', () => {
  it('keeps the largest peers by name within its bound and sums the rest', () => {
    const counts = new PeerByteCounts(3)
    for (let i = 0; i < 1000; i++) counts.add(`churn-${i}`, 1)
    counts.add('big', 500)
    counts.add('big', 500)
    counts.add('mid', 100)
    const tracked = counts.entries()
    assert.equal(tracked.length, 3, 'never more than the bound')
    assert.deepEqual(tracked.slice(0, 2), [['big', 1000], ['mid', 100]])
    const total = tracked.reduce((s, [, b]) => s + b, 0) + counts.others
    assert.equal(total, 1000 + 1000 + 100, 'no byte is lost, only its peer name')
  })

  it('counts a peer as the origin from its flag, for bytes it sent before the flag was seen too', () => {
    const sources = new ContentSources()
    assert.equal(peerShare(sources.received), undefined)
    assert.equal(sources.receivedFromPeer('seeder', 300), 'peer')
    sources.receivedFromPeer('other', 100)
    sources.markOrigin('seeder')
    assert.equal(sources.receivedFromPeer('seeder', 100), 'origin')
    sources.receivedFromUpstream(100)
    assert.deepEqual(sources.received, { origin: 400, peer: 100, upstream: 100 })
    assert.equal(peerShare(sources.received), 100 / 600)
    sources.sent('other', 42)
    assert.equal(sources.sentTo.get('other'), 42)
  })
})
