import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ContentLeases } from '../../src/node/content-leases.js'
import type { ShoalNode } from '../../src/node/shoal-node.js'
import { Harness, randomFile, sha256File, within } from './helpers.js'

describe('fetch into the managed store', () => {
  const h = new Harness()
  let seeder: ShoalNode
  let source: string
  let cid: string

  before(async () => {
    await h.startBootstrap()
    source = join(await h.tempDir(), 'blob.bin')
    await randomFile(source, 700_000)
    seeder = await h.node()
    cid = (await seeder.add(source)).cid
  })

  after(async () => { await h.cleanup() })

  it('lands in <dataDir>/store/<cid>/<name>, and a second fetch returns the held copy', async () => {
    const receiver = await h.node()
    const first = await within('fetch', 30_000, receiver.fetch(cid))
    assert.equal(first.path, join(receiver.init.dataDir, 'store', cid, 'blob.bin'))
    assert.equal(await sha256File(first.path), await sha256File(source))
    assert.ok(receiver.leases.lastUsed(cid) !== undefined, 'a fetch counts as a use')
    const again = await receiver.fetch(cid)
    assert.equal(again.path, first.path)
    assert.equal(again.fetchedChunks, 0)
  })

  it('a seeded content is fetched nowhere: the seeder answers with where it already lives', async () => {
    const result = await seeder.fetch(cid)
    assert.equal(result.path, source)
  })
})

describe('ContentLeases', () => {
  it('counts nested leases and releases each once', () => {
    const leases = new ContentLeases()
    const a = leases.acquire('x')
    const b = leases.acquire('x')
    a()
    a()
    assert.equal(leases.inUse('x'), true, 'a second release of the same lease must not drop the other')
    b()
    assert.equal(leases.inUse('x'), false)
    assert.equal(leases.inUse('y'), false)
  })
})
