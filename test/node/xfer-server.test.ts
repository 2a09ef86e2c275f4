import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { ChunkLayout, decodeManifest, parseCid, verifyChunk } from '../../src/content/index.js'
import { ShoalNetwork, XFER_PROTOCOL } from '../../src/net/index.js'
import type { ShoalNode } from '../../src/node/shoal-node.js'
import { CHUNK, Harness, randomFile, sha256File, within } from './helpers.js'

// a valid CID nobody serves (the manifest CID of other content)
const UNKNOWN = 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

describe('the xfer server of a running node', () => {
  const h = new Harness()
  let seeder: ShoalNode
  let cid: string
  let hash: string
  let net: ShoalNetwork
  const size = 5 * CHUNK + 99

  before(async () => {
    await h.startBootstrap()
    const dir = await h.tempDir()
    const source = join(dir, 'served.bin')
    await randomFile(source, size)
    hash = await sha256File(source)
    seeder = await h.node()
    cid = (await seeder.add(source)).cid
    // a bare network serving nothing, so the test speaks the wire protocol itself
    net = new ShoalNetwork({ dataDir: await h.tempDir(), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] })
    await net.start()
    await net.libp2p.dial(multiaddr(seeder.multiaddrs[0]!))
  })

  after(async () => {
    await net?.stop()
    await h.cleanup()
  })

  async function assertStillServes (): Promise<void> {
    const manifest = decodeManifest(await net.getManifest(seeder.peerId, parseCid(cid)), parseCid(cid))
    const layout = new ChunkLayout(manifest)
    const last = layout.chunkCount - 1
    const chunk = await net.requestChunk(seeder.peerId, parseCid(cid), last)
    assert.equal(chunk.length, 99)
    assert.equal(verifyChunk(layout, last, chunk), true)
  }

  it('rejects a chunk index out of range with bad-index and keeps serving', async () => {
    for (const index of [6, 1000, 0xffffffff]) {
      await assert.rejects(net.requestChunk(seeder.peerId, parseCid(cid), index), { code: 'ERR_BAD_INDEX', reason: 'bad-index' })
    }
    await assertStillServes()
  })

  it('rejects requests for unknown content with unknown-content and keeps serving', async () => {
    const unknown = parseCid(UNKNOWN)
    await assert.rejects(net.requestChunk(seeder.peerId, unknown, 0), { code: 'ERR_XFER_REJECTED', reason: 'unknown-content' })
    await assert.rejects(net.getManifest(seeder.peerId, unknown), { code: 'ERR_XFER_REJECTED', reason: 'unknown-content' })
    await assert.rejects(net.getBitfield(seeder.peerId, unknown), { code: 'ERR_XFER_REJECTED', reason: 'unknown-content' })
    await assertStillServes()
  })

  it('closes a stream carrying garbage and keeps serving', async () => {
    const raw: Stream = await net.libp2p.dialProtocol(multiaddr(seeder.multiaddrs[0]!), XFER_PROTOCOL)
    const closed = new Promise<void>(resolve => { raw.addEventListener('close', () => { resolve() }, { once: true }) })
    raw.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02]))
    await within('the server closing the garbage stream', 5000, closed)
    assert.notEqual(raw.status, 'open')
    await assertStillServes()
  })

  it('still serves a whole download to a real receiver afterwards', async () => {
    const receiver = await h.node()
    const result = await within('download', 20_000, receiver.get(cid, { out: await h.tempDir() }))
    assert.equal(await sha256File(result.path), hash)
  })
})
