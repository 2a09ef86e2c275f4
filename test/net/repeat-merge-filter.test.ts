import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { createLibp2p } from 'libp2p'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Key } from 'interface-datastore'
import { filterRepeatMerges } from '../../src/net/repeat-merge-filter.js'

/** A memory datastore that counts the peer records written into it. */
class CountingDatastore extends MemoryDatastore {
  peerWrites = 0
  override put (key: Key, value: Uint8Array): ReturnType<MemoryDatastore['put']> {
    if (key.toString().startsWith('/peers/')) this.peerWrites++
    return super.put(key, value)
  }
}

const nodes: Libp2p[] = []
after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

async function setup (options: { ttlMs?: number, now?: () => number } = {}): Promise<{ node: Libp2p, store: CountingDatastore, peer: PeerId }> {
  const store = new CountingDatastore()
  const node = await createLibp2p({ datastore: store, start: false })
  nodes.push(node)
  filterRepeatMerges(node.peerStore, options)
  const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  return { node, store, peer }
}

describe('filterRepeatMerges (peer-store merges that change nothing)', () => {
  it('writes a merge that adds something and skips its repeats', async () => {
    const { node, store, peer } = await setup()
    const addr = multiaddr('/ip4/10.0.0.1/tcp/4001')
    await node.peerStore.merge(peer, { protocols: ['/a/1'], multiaddrs: [addr] })
    const first = store.peerWrites
    assert.ok(first >= 1)
    await node.peerStore.merge(peer, { protocols: ['/a/1'] })
    await node.peerStore.merge(peer, { multiaddrs: [addr] })
    // the form DHT answers and discovery give: the address with the peer's id on the end
    await node.peerStore.merge(peer, { multiaddrs: [addr.encapsulate(`/p2p/${peer.toString()}`)] })
    assert.equal(store.peerWrites, first, 'repeats write nothing')
    await node.peerStore.merge(peer, { protocols: ['/b/1'] })
    assert.equal(store.peerWrites, first + 1, 'a new protocol is written')
    await node.peerStore.merge(peer, { tags: { t: { value: 5 } } })
    assert.equal(store.peerWrites, first + 2, 'anything but protocols and addresses is always written')
    const saved = await node.peerStore.get(peer)
    assert.deepEqual([...saved.protocols].sort(), ['/a/1', '/b/1'])
    assert.equal(saved.tags.get('t')?.value, 5)
  })

  it('never answers from a record that a patch, save or delete changed', async () => {
    const { node, peer } = await setup()
    await node.peerStore.merge(peer, { protocols: ['/a/1', '/b/1'] })
    await node.peerStore.patch(peer, { protocols: ['/b/1'] })
    await node.peerStore.merge(peer, { protocols: ['/a/1'] })
    assert.deepEqual([...(await node.peerStore.get(peer)).protocols].sort(), ['/a/1', '/b/1'], 'merged again after the patch dropped it')
    await node.peerStore.save(peer, { protocols: ['/c/1'] })
    await node.peerStore.merge(peer, { protocols: ['/a/1'] })
    assert.deepEqual([...(await node.peerStore.get(peer)).protocols].sort(), ['/a/1', '/c/1'], 'merged again after a save')
    await node.peerStore.delete(peer)
    await node.peerStore.merge(peer, { protocols: ['/a/1'] })
    assert.deepEqual([...(await node.peerStore.get(peer)).protocols], ['/a/1'], 'merged again after a delete')
  })

  it('does not skip a merge that overlaps a write still in flight', async () => {
    const { node, peer } = await setup()
    await node.peerStore.merge(peer, { protocols: ['/a/1'] })
    const patching = node.peerStore.patch(peer, { protocols: [] })
    const merging = node.peerStore.merge(peer, { protocols: ['/a/1'] })
    await Promise.all([patching, merging])
    assert.deepEqual([...(await node.peerStore.get(peer)).protocols], ['/a/1'])
  })

  it('writes a repeat once the remembered record is older than the TTL', async () => {
    let clock = 1_000
    const { node, store, peer } = await setup({ ttlMs: 100, now: () => clock })
    await node.peerStore.merge(peer, { protocols: ['/a/1'] })
    const first = store.peerWrites
    clock += 99
    await node.peerStore.merge(peer, { protocols: ['/a/1'] })
    assert.equal(store.peerWrites, first)
    clock += 1
    await node.peerStore.merge(peer, { protocols: ['/a/1'] })
    assert.equal(store.peerWrites, first + 1, 'refreshes the record the store expires by')
  })
})
