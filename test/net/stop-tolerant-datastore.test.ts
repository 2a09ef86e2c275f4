import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { LevelDatastore } from 'datastore-level'
import { Key } from 'interface-datastore'
import { StopTolerantDatastore } from '../../src/net/stop-tolerant-datastore.js'
import { Harness } from './helpers.js'

async function all<T> (source: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}

describe('StopTolerantDatastore', () => {
  const h = new Harness()
  after(async () => { await h.cleanup() })

  it('keeps the peer store (/peers/...) in memory and everything else in LevelDB', async () => {
    const path = join(await h.tempDir(), 'datastore')
    const store = new StopTolerantDatastore(path)
    await store.open()
    const peer = new Key('/peers/ciqexample')
    const record = new Key('/dht/provider/example')
    await store.put(peer, Uint8Array.of(1))
    await store.put(record, Uint8Array.of(2))
    const batch = store.batch()
    batch.put(new Key('/peers/ciqother'), Uint8Array.of(3))
    batch.put(new Key('/dht/record/other'), Uint8Array.of(4))
    await batch.commit()
    assert.deepEqual(await store.get(peer), Uint8Array.of(1))
    assert.equal(await store.has(new Key('/peers/ciqother')), true)
    assert.deepEqual((await all(store.query({ prefix: '/peers/' }))).map(p => p.key.toString()).sort(), ['/peers/ciqexample', '/peers/ciqother'])
    assert.deepEqual((await all(store.queryKeys({ prefix: '/dht/' }))).map(k => k.toString()).sort(), ['/dht/provider/example', '/dht/record/other'])
    await store.delete(peer)
    assert.equal(await store.has(peer), false)
    await store.close()

    const level = new LevelDatastore(path)
    await level.open()
    try {
      assert.deepEqual((await all(level.queryKeys({}))).map(k => k.toString()).sort(), ['/dht/provider/example', '/dht/record/other'])
    } finally {
      await level.close()
    }
  })
})
