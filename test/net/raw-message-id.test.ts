import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { rawMessageId } from '../../src/net/gossipsub.js'

describe('rawMessageId (GossipSub fast message id)', () => {
  const base = {
    from: Uint8Array.of(1, 2, 3),
    seqno: Uint8Array.of(0, 0, 0, 1),
    topic: '/shoal/2/have/x',
    data: Uint8Array.of(9, 9),
    signature: new Uint8Array(64).fill(5),
    key: undefined
  }

  it('is the same for the same message and differs when any field differs', () => {
    assert.equal(rawMessageId({ ...base }), rawMessageId({ ...base, data: Uint8Array.of(9, 9) }))
    const variants = [
      { ...base, from: Uint8Array.of(1, 2, 4) },
      { ...base, seqno: Uint8Array.of(0, 0, 0, 2) },
      { ...base, topic: '/shoal/2/have/y' },
      { ...base, data: Uint8Array.of(9, 8) },
      { ...base, signature: new Uint8Array(64).fill(6) },
      { ...base, key: Uint8Array.of(7) }
    ]
    const ids = new Set([rawMessageId(base), ...variants.map(rawMessageId)])
    assert.equal(ids.size, variants.length + 1)
  })

  it('keeps field boundaries: bytes moved from one field to the next give another id', () => {
    const a = rawMessageId({ ...base, from: Uint8Array.of(1, 2), seqno: Uint8Array.of(3, 0, 0, 0, 1) })
    const b = rawMessageId({ ...base, from: Uint8Array.of(1, 2, 3), seqno: Uint8Array.of(0, 0, 0, 1) })
    assert.notEqual(a, b)
  })
})
