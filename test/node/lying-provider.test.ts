// A provider on the DHT that serves a bad manifest: real nodes on loopback, the liar a bare network
// with an xfer server of its own whose source answers with bytes of the test's choosing.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { ManifestErrorCode } from '../../src/content/index.js'
import { ShoalNetwork } from '../../src/net/index.js'
import type { XferContentSource } from '../../src/net/index.js'
import { Harness, randomFile, sha256File, waitUntil, within } from './helpers.js'

/**
 * A network that provides whatever CIDs it is told and answers GET_MANIFEST with `manifest(cid)`.
 * `asked` counts the server's look-ups: one GET_MANIFEST costs it at most two (stream, request).
 */
async function liar (h: Harness, manifest: (cid: CID) => Uint8Array): Promise<{ net: ShoalNetwork, asked: () => number }> {
  let asked = 0
  const source: XferContentSource = {
    manifestBytes: cid => { asked++; return manifest(cid) },
    bitfield: () => undefined,
    readChunk: async () => { throw new Error('serves no chunks') }
  }
  const init = await h.init()
  const net = new ShoalNetwork({ dataDir: init.dataDir!, listen: init.listen, bootstrap: init.bootstrap ?? [] }, { source })
  await net.start()
  return { net, asked: () => asked }
}

describe('a provider that serves a bad manifest', { timeout: 120_000 }, () => {
  const h = new Harness()
  const nets: ShoalNetwork[] = []

  before(async () => { await h.startBootstrap() })
  after(async () => {
    await Promise.all(nets.map(async n => { await n.stop() }))
    await h.cleanup()
  })

  it('is asked once when its bytes do not match the CID; the download finishes from an honest seeder', async () => {
    const dir = await h.tempDir()
    await randomFile(join(dir, 'real.bin'), 300_000)
    const seeder = await h.node()
    const { cid } = await seeder.add(join(dir, 'real.bin'))
    // the seeder is known to nobody yet: the liar is the only provider the receiver can find
    await seeder.stop()
    const bad = await liar(h, () => new TextEncoder().encode('not the manifest'))
    nets.push(bad.net)
    await bad.net.provide(CID.parse(cid))

    const receiver = await h.node()
    const got = receiver.get(cid, { out: await h.tempDir(), findTimeoutMs: 60_000 })
    got.catch(() => {})
    await waitUntil('the liar being asked for the manifest', () => bad.asked() >= 1)
    // the receiver retries every 250 ms; on the old code it kept asking the same liar
    await new Promise(resolve => setTimeout(resolve, 2000))
    const askedBeforeHonest = bad.asked()
    await h.node({ dataDir: seeder.init.dataDir })
    const result = await within('the download from the honest seeder', 60_000, got)
    assert.equal(await sha256File(result.path), await sha256File(join(dir, 'real.bin')))
    assert.ok(askedBeforeHonest <= 2, `a provider whose manifest failed the CID check is not asked again (${askedBeforeHonest} look-ups in 2 s)`)
  })

  it('ends the download at once when the manifest matches its CID but breaks a rule', async () => {
    // bytes that hash to their CID, with an unsafe path: every provider would serve the same
    const bytes = dagCbor.encode({ version: 1, name: 'evil', size: 1, chunkSize: 65536, files: [{ path: '../escape', size: 1, chunks: [new Uint8Array(32)] }], directories: [] })
    const cid = CID.create(1, dagCbor.code, await sha256.digest(bytes))
    const bad = await liar(h, () => bytes)
    nets.push(bad.net)
    await bad.net.provide(cid)
    const receiver = await h.node()
    const started = Date.now()
    await assert.rejects(within('the failing get', 30_000, receiver.get(cid.toString(), { out: await h.tempDir(), findTimeoutMs: 25_000 })), (err: Error & { code?: string }) => {
      assert.notEqual(err.code, 'ERR_NOT_FOUND', `the manifest's own error, not a search timeout: ${err.message}`)
      assert.equal(err.code, ManifestErrorCode.BAD_PATH, err.message)
      return true
    })
    console.log(`# failed after ${Date.now() - started} ms, the liar asked ${bad.asked()} time(s)`)
    assert.ok(bad.asked() <= 2, `asked once (${bad.asked()} look-ups)`)
  })
})
