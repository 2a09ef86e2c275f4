// Bad peers must never stall a download: receivers that corrupt every chunk they serve, and
// identities that announce every chunk and serve nothing. Real nodes on loopback; the liars are bare
// networks with an xfer server that serves nothing.
import assert from 'node:assert/strict'
import { open, stat, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import { ShoalNetwork } from '../../src/net/index.js'
import type { XferContentSource } from '../../src/net/index.js'
import type { ShoalNode } from '../../src/node/shoal-node.js'
import type { BannedEvent } from '../../src/node/types.js'
import { Bitfield } from '../../src/util/bitfield.js'
import { CHUNK, Harness, randomFile, sha256File, waitUntil, within } from './helpers.js'

const CHUNKS = 64
const SIZE = CHUNKS * CHUNK
const RECEIVERS = 8
// Generous: a clean run of this size takes a few seconds; on the old code the honest receivers never
// finished (the seeder refused every chunk the corrupters were said to hold).
const DOWNLOAD_BOUND_MS = 90_000

/** Overwrites 4 bytes inside every chunk of `path`, keeping its mtime so the store does not notice. */
async function corruptEveryChunk (path: string): Promise<void> {
  const before = await stat(path)
  const fh = await open(path, 'r+')
  try {
    for (let i = 0; i < CHUNKS; i++) await fh.write(Buffer.from([0xde, 0xad, 0xbe, 0xef]), 0, 4, i * CHUNK + 100)
  } finally {
    await fh.close()
  }
  await utimes(path, before.atime, before.mtime)
}

async function corruptersScenario (corrupters: number): Promise<void> {
  const h = new Harness()
  try {
    await h.startBootstrap()
    const dir = await h.tempDir()
    const source = join(dir, 'data.bin')
    await randomFile(source, SIZE)
    const hash = await sha256File(source)
    const seeder = await h.node()
    const cid = (await seeder.add(source)).cid

    // The corrupters take their copies first, so the seeder has sent every chunk and sees each one
    // held by all of them: the situation where its first-copy rule refused everything to the rest.
    const bad = await Promise.all(Array.from({ length: corrupters }, async () => await h.node()))
    const badPaths = await Promise.all(bad.map(async b => (await within('corrupter download', 30_000, b.get(cid, { out: await h.tempDir() }))).path))
    for (const path of badPaths) await corruptEveryChunk(path)
    const badIds = new Set(bad.map(b => b.peerId))

    const honest = await Promise.all(Array.from({ length: RECEIVERS - corrupters }, async () => await h.node()))
    const bans: BannedEvent[][] = honest.map(() => [])
    honest.forEach((r, i) => { r.addEventListener('banned', ({ detail }) => { bans[i]!.push(detail) }) })
    const started = performance.now()
    const results = await within('honest downloads', DOWNLOAD_BOUND_MS,
      Promise.all(honest.map(async r => await r.get(cid, { out: await h.tempDir() }))))
    const tookMs = performance.now() - started
    for (const [i, result] of results.entries()) {
      assert.equal(await sha256File(result.path), hash, `honest receiver ${i} holds different bytes`)
    }
    const uploaded = await Promise.all(bad.map(async b => (await b.status()).uploadedBytes))
    console.log(`# ${corrupters} corrupters of ${RECEIVERS}: honest receivers done in ${Math.round(tookMs)} ms; ` +
      `corrupters uploaded ${uploaded.join(', ')} B; bans per receiver: ${bans.map(b => b.length).join(', ')}`)
    for (const [i, list] of bans.entries()) {
      for (const e of list) {
        assert.ok(badIds.has(e.peer), `receiver ${i} banned an honest peer: ${JSON.stringify(e)}`)
        assert.equal(e.cid, cid)
      }
      // One ban per corrupter and receiver: the first bad chunk ends it, nothing from it is tried again.
      for (const id of badIds) {
        const n = list.filter(e => e.peer === id).length
        assert.ok(n <= 1, `receiver ${i} banned ${id} ${n} times`)
      }
    }
  } finally {
    await h.cleanup()
  }
}

describe('receivers that corrupt every chunk they serve', { timeout: 240_000 }, () => {
  it('2 of 8: every honest receiver finishes bit-identical, banning each corrupter at most once', async () => {
    await corruptersScenario(2)
  })

  it('3 of 8: the same', async () => {
    await corruptersScenario(3)
  })
})

/** A network announcing every chunk of `cid` on gossip while serving nothing. */
async function liar (h: Harness, cid: string, seeder: ShoalNode): Promise<ShoalNetwork> {
  const source: XferContentSource = {
    manifestBytes: () => undefined,
    bitfield: () => undefined,
    readChunk: async () => { throw new Error('serves no chunks') }
  }
  const init = await h.init()
  const net = new ShoalNetwork({ dataDir: init.dataDir!, listen: init.listen, bootstrap: init.bootstrap ?? [] }, { source })
  await net.start()
  await net.libp2p.dial(multiaddr(seeder.multiaddrs[0]!))
  const all = new Bitfield(CHUNKS)
  all.setAll()
  const announcer = net.joinContent(CID.parse(cid), CHUNKS, all)
  // The seeder's bitfield reaching the liar means the topic's mesh joins them both ways.
  await waitUntil('the liar and the seeder sharing the topic', () => announcer.isMember(seeder.peerId))
  return net
}

describe('identities that announce every chunk and serve nothing', { timeout: 120_000 }, () => {
  const h = new Harness()
  const nets: ShoalNetwork[] = []
  after(async () => {
    await Promise.all(nets.map(async n => { await n.stop() }))
    await h.cleanup()
  })

  it('do not keep a newcomer from getting the content from the seeder', async () => {
    await h.startBootstrap()
    const dir = await h.tempDir()
    const source = join(dir, 'data.bin')
    await randomFile(source, SIZE)
    const hash = await sha256File(source)
    const seeder = await h.node()
    const cid = (await seeder.add(source)).cid
    // a first receiver takes every chunk once and leaves: the seeder has no fresh chunk left
    const first = await h.node()
    await within('first download', 30_000, first.get(cid, { out: await h.tempDir() }))
    await first.stop()

    nets.push(await liar(h, cid, seeder), await liar(h, cid, seeder))
    // their bitfields were published before the seeder's answer came back; give them a moment to land
    await new Promise(resolve => setTimeout(resolve, 1000))

    const newcomer = await h.node()
    const started = performance.now()
    // On the old code the seeder answered NOT_HELD for every chunk (two "holders" each): 0 chunks in 75 s.
    const result = await within('the newcomer\'s download', 60_000, newcomer.get(cid, { out: await h.tempDir() }))
    console.log(`# newcomer done in ${Math.round(performance.now() - started)} ms beside two liars`)
    assert.equal(await sha256File(result.path), hash)
  })
})
