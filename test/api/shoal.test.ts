// The programmatic API as another project sees it: createShoal, seed, get with progress, typed events.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createShoal, isShoalError, Shoal, ShoalError, ShoalNode, type GetResult, type Progress } from '../../src/index.js'

describe('createShoal', { timeout: 120_000 }, () => {
  let work: string
  const nodes: Shoal[] = []
  const make = (name: string, bootstrap: string[] = []): Shoal => {
    const n = createShoal({ dataDir: join(work, name), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, chunkSize: 64 * 1024 })
    nodes.push(n)
    return n
  }
  before(async () => { work = await mkdtemp(join(tmpdir(), 'shoal-sdk-')) })
  after(async () => {
    await Promise.allSettled(nodes.map(async n => { await n.stop() }))
    await rm(work, { recursive: true, force: true })
  })

  it('returns an unstarted node that refuses to fetch until started', async () => {
    const node = make('idle')
    assert.ok(node instanceof Shoal)
    assert.ok(node instanceof ShoalNode)
    assert.equal(node.peerId, '')
    await assert.rejects(node.get('bafyreigvdpre2rqmnwd3eodt5rvk3clr2ykcu6x4lwejjiix35cczyxafa'), (err: unknown) => isShoalError(err, 'ERR_NOT_STARTED'))
    await assert.rejects(node.seed('not-a-path-nor-a-cid'), (err: unknown) => err instanceof ShoalError && err.code === 'ERR_BAD_CID')
  })

  it('seed(path) publishes, get(cid) fetches with progress and events, seed(cid) keeps serving', async () => {
    const data = randomBytes(900_000)
    await writeFile(join(work, 'data.bin'), data)
    const seeder = make('seeder')
    // seeding before start is allowed: the content is announced once the node runs
    const added = await seeder.seed(join(work, 'data.bin'))
    assert.match(added.cid, /^bafy/)
    assert.equal(added.chunks, 14)
    await seeder.start()

    const receiver = make('receiver', seeder.multiaddrs)
    const peers: string[] = []
    const done: GetResult[] = []
    receiver.addEventListener('peer', ({ detail }) => { if (detail.connected) peers.push(detail.peerId) })
    receiver.addEventListener('done', ({ detail }) => { done.push(detail) })
    await receiver.start()
    const progress: Progress[] = []
    const result = await receiver.get(added.cid, { out: join(work, 'out'), onProgress: p => { progress.push(p) }, signal: AbortSignal.timeout(60_000) })
    assert.equal(result.path, join(work, 'out', 'data.bin'))
    assert.deepEqual(await readFile(result.path), data)
    assert.ok(peers.includes(seeder.peerId))
    assert.deepEqual(done.map(d => d.cid), [added.cid])
    assert.ok(progress.length > 0)
    assert.equal(progress.at(-1)!.have, 14)
    assert.ok(progress.every(p => p.cid === added.cid && p.total === 14))

    // held already: seed(cid) fetches nothing and reports what it serves
    const again = await receiver.seed(added.cid)
    assert.equal(again.cid, added.cid)
    assert.equal(again.path, result.path)
    const listed = await receiver.ls()
    assert.equal(listed.find(c => c.cid === added.cid)?.state, 'seeding')

    // a third node fetches it by seed(cid), and the stop of the original seeder does not matter:
    // the receiver serves it
    await seeder.stop()
    const third = make('third', receiver.multiaddrs)
    await third.start()
    const fetched = await third.seed(added.cid, { out: join(work, 'out3'), signal: AbortSignal.timeout(60_000) })
    assert.deepEqual(await readFile(fetched.path), data)
  })
})
