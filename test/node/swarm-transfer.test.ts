import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { ShoalNode } from '../../src/node/shoal-node.js'
import { CHUNK, Harness, randomFile, sha256File, treeDigest, within } from './helpers.js'

describe('swarm transfer on loopback', () => {
  const h = new Harness()
  let seeder: ShoalNode
  let source: string
  let sourceHash: string
  let cid: string

  before(async () => {
    await h.startBootstrap()
    const dir = await h.tempDir()
    source = join(dir, 'payload.bin')
    // 3 MiB + a short last chunk: 49 chunks
    await randomFile(source, 3 * 1024 * 1024 + 1234)
    sourceHash = await sha256File(source)
    seeder = await h.node()
    cid = (await seeder.add(source)).cid
  })

  after(async () => { await h.cleanup() })

  it('1 seeder + 6 receivers all end with bit-identical files', async () => {
    const receivers = await Promise.all(Array.from({ length: 6 }, async () => await h.node()))
    const outs = await Promise.all(receivers.map(async () => await h.tempDir()))
    const results = await within('6 downloads', 60_000, Promise.all(receivers.map(async (r, i) => await r.get(cid, { out: outs[i] }))))
    const chunks = Math.ceil((3 * 1024 * 1024 + 1234) / CHUNK)
    for (const [i, result] of results.entries()) {
      assert.equal(result.path, join(outs[i]!, 'payload.bin'))
      assert.equal(result.fetchedChunks, chunks)
      assert.equal(await sha256File(result.path), sourceHash, `receiver ${i} holds different bytes`)
      const [info] = await receivers[i]!.ls()
      assert.equal(info?.have, chunks)
      assert.equal(info?.state, 'seeding')
    }
    // receivers re-serve: between them they uploaded something, so the seeder did not carry it all alone
    let receiverUploads = 0
    for (const r of receivers) receiverUploads += (await r.status()).uploadedBytes
    console.log(`# seeder uploaded ${(await seeder.status()).uploadedBytes} B, receivers ${receiverUploads} B`)
  })

  it('a receiver joining after the others finished completes from them', async () => {
    const late = await h.node()
    const out = await h.tempDir()
    const result = await within('late download', 30_000, late.get(cid, { out }))
    assert.equal(await sha256File(result.path), sourceHash)
  })

  it('a receiver joining mid-way through a slow swarm completes', async () => {
    // a throttled second seeder so the first receivers are still busy when the late one joins
    const dir = await h.tempDir()
    const file = join(dir, 'slow.bin')
    await randomFile(file, 2 * 1024 * 1024)
    const hash = await sha256File(file)
    const slowSeeder = await h.node({ uploadLimit: 512 * 1024 })
    const slowCid = (await slowSeeder.add(file)).cid
    const early = await Promise.all([h.node(), h.node()])
    const earlyOuts = await Promise.all(early.map(async () => await h.tempDir()))
    const earlyGets = early.map(async (r, i) => await r.get(slowCid, { out: earlyOuts[i] }))
    // join once the early ones hold some but not all chunks
    const deadline = Date.now() + 20_000
    for (;;) {
      const [info] = (await early[0]!.ls()).filter(c => c.cid === slowCid)
      if (info !== undefined && info.have >= 4) {
        assert.ok(info.have < info.chunks, 'the early receiver finished before the late one joined; slow the seeder more')
        break
      }
      assert.ok(Date.now() < deadline, 'the early receiver made no progress')
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    const late = await h.node()
    const out = await h.tempDir()
    const results = await within('mid-way swarm', 40_000, Promise.all([...earlyGets, late.get(slowCid, { out })]))
    for (const result of results) assert.equal(await sha256File(result.path), hash)
  })

  it('a directory with nested files, a zero-byte file and an empty directory arrives identical', async () => {
    const dir = await h.tempDir()
    const root = join(dir, 'tree')
    await mkdir(join(root, 'a', 'b'), { recursive: true })
    await mkdir(join(root, 'empty'), { recursive: true })
    await mkdir(join(root, 'a', 'also-empty'), { recursive: true })
    await randomFile(join(root, 'top.bin'), 300_000)
    await randomFile(join(root, 'a', 'mid.bin'), CHUNK)
    await randomFile(join(root, 'a', 'b', 'deep.bin'), 2 * CHUNK + 7)
    await writeFile(join(root, 'a', 'b', 'zero.txt'), '')
    await writeFile(join(root, 'tiny.txt'), 'hello\n')
    const expected = await treeDigest(root)
    const treeSeeder = await h.node()
    const treeCid = (await treeSeeder.add(root)).cid
    const receivers = await Promise.all([h.node(), h.node(), h.node()])
    const outs = await Promise.all(receivers.map(async () => await h.tempDir()))
    const results = await within('tree downloads', 30_000, Promise.all(receivers.map(async (r, i) => await r.get(treeCid, { out: outs[i] }))))
    for (const [i, result] of results.entries()) {
      assert.equal(result.path, join(outs[i]!, 'tree'))
      assert.deepEqual(await treeDigest(result.path), expected)
    }
  })
})
