import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ShoalNode } from '../../src/node/shoal-node.js'
import { ShoalError } from '../../src/util/shoal-error.js'
import { freePortAddress, Harness, randomFile, within } from './helpers.js'

describe('bad input to a node', () => {
  const h = new Harness()
  after(async () => { await h.cleanup() })

  it('get of an invalid CID fails with ERR_BAD_CID', async () => {
    await h.startBootstrap()
    const node = await h.node()
    for (const bad of ['', 'not-a-cid', 'bafy', 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG!']) {
      await assert.rejects(node.get(bad, { out: await h.tempDir() }), (err: unknown) => {
        assert.ok(err instanceof ShoalError, `${String(err)} is not a ShoalError`)
        assert.equal(err.code, 'ERR_BAD_CID', `for ${JSON.stringify(bad)}`)
        return true
      })
    }
    assert.deepEqual(await node.ls(), [])
  })

  it('get with an unreachable bootstrap node fails with ERR_BOOTSTRAP_UNREACHABLE', async () => {
    // a real peer id at an address where nothing listens
    const ghost = await ShoalNode.identity({ dataDir: await h.tempDir() })
    const node = new ShoalNode({ dataDir: await h.tempDir(), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [`${await freePortAddress()}/p2p/${ghost.peerId}`] })
    h.nodes.push(node)
    await node.start()
    const seeder = await h.node()
    const dir = await h.tempDir()
    await randomFile(join(dir, 'x.bin'), 1000)
    const { cid } = await seeder.add(join(dir, 'x.bin'))
    const started = Date.now()
    await assert.rejects(within('the failing get', 15_000, node.get(cid, { out: await h.tempDir(), findTimeoutMs: 2000 })), { code: 'ERR_BOOTSTRAP_UNREACHABLE' })
    console.log(`# failed after ${Date.now() - started} ms`)
    assert.deepEqual(await node.ls(), [])
  })

  it('add of a missing path fails with ERR_UNREADABLE', async () => {
    const node = await h.node()
    const missing = join(await h.tempDir(), 'no-such-file')
    await assert.rejects(node.add(missing), { code: 'ERR_UNREADABLE' })
    assert.deepEqual(await node.ls(), [])
  })
})
