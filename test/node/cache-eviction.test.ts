// The cache on a real size-limited file system: a tmpfs mounted for the test (root only).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { access, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { ShoalNode } from '../../src/node/shoal-node.js'
import type { EvictedContent } from '../../src/node/types.js'
import { Harness, randomFile, sha256File, waitUntil, within } from './helpers.js'

const MiB = 1024 * 1024
const SIZE = 2 * MiB
const isRoot = process.getuid?.() === 0
const skip = isRoot ? false : 'needs root to mount a size-limited tmpfs'

async function exists (path: string): Promise<boolean> {
  return await access(path).then(() => true, () => false)
}

describe('cache eviction on a size-limited tmpfs', { skip }, () => {
  const h = new Harness()
  const mounts: string[] = []
  let seeder: ShoalNode
  let slowSeeder: ShoalNode
  const sources = new Map<string, { cid: string, hash: string }>()

  async function tmpfs (size: string): Promise<string> {
    const dir = join(await h.tempDir(), 'mnt')
    await mkdir(dir)
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir])
    mounts.push(dir)
    return dir
  }

  async function content (node: ShoalNode, name: string): Promise<{ cid: string, hash: string }> {
    const path = join(await h.tempDir(), `${name}.bin`)
    await randomFile(path, SIZE)
    const added = { cid: (await node.add(path)).cid, hash: await sha256File(path) }
    sources.set(name, added)
    return added
  }

  before(async () => {
    await h.startBootstrap()
    seeder = await h.node()
    // the only holder of X, throttled so X is still downloading when the cache must make room
    slowSeeder = await h.node({ uploadLimit: 256 * 1024 })
  })

  after(async () => {
    await h.cleanup().catch(() => {})
    for (const dir of mounts) execFileSync('umount', ['-l', dir])
  })

  it('evicts least recently used down to the low watermark, never a pinned content or one downloading, while a download completes', async () => {
    const dataDir = await tmpfs('32m')
    // 14 MiB limit: GC above 80 % (11.2 MiB), down to 60 % (8.4 MiB)
    const node = await h.node({ dataDir, cacheMaxBytes: 14 * MiB, gcHighPercent: 80, gcLowPercent: 60 })
    const evicted: EvictedContent[] = []
    node.addEventListener('evicted', ({ detail }) => { evicted.push(detail) })
    const x = await content(slowSeeder, 'X')
    const [p, a, b, c, d] = await Promise.all(['P', 'A', 'B', 'C', 'D'].map(async n => await content(seeder, n)))

    // X first: the oldest use of all, and still downloading at the end
    const xFetch = node.fetch(x.cid)
    await waitUntil('X under way', async () => (await node.ls()).some(i => i.cid === x.cid && i.have > 0))
    for (const one of [p!, a!, b!, c!]) await within('fetch', 20_000, node.fetch(one.cid))
    await node.pin(p!.cid)
    // B used again: now more recent than C
    await node.fetch(b!.cid)
    assert.equal(evicted.length, 0, 'nothing evicted under the high watermark (10 MiB of 11.2)')

    // D takes the store to 12 MiB: over the high watermark
    await within('fetch D', 20_000, node.fetch(d!.cid))
    await waitUntil('the GC after fetch D', () => evicted.length >= 2, 10_000)
    assert.deepEqual(evicted.map(e => [e.cid, e.reason]), [[a!.cid, 'quota'], [c!.cid, 'quota']])
    assert.ok(node.cacheStats().bytes <= 14 * MiB * 0.6, `down to the low watermark: ${node.cacheStats().bytes}`)
    assert.deepEqual(node.cacheStats().evictions, { quota: 2, tti: 0, ttl: 0, 'disk-full': 0 })

    const listed = new Map((await node.ls()).map(i => [i.cid, i]))
    assert.ok(!listed.has(a!.cid) && !listed.has(c!.cid), 'evicted contents are forgotten')
    assert.equal(listed.get(p!.cid)?.pinned, true)
    assert.equal(listed.get(x.cid)?.state, 'downloading', 'X was still downloading when the cache made room')
    for (const gone of [a!, c!]) assert.ok(!await exists(join(dataDir, 'store', gone.cid)), `${gone.cid}'s files are deleted`)

    const xResult = await within('X download', 40_000, xFetch)
    assert.equal(await sha256File(xResult.path), x.hash)
    for (const kept of [p!, b!, d!]) {
      const info = listed.get(kept.cid)
      assert.ok(info !== undefined && info.managed === true)
      assert.equal(await sha256File(info.path), kept.hash, `${kept.cid} is whole`)
    }
  })

  it('a write that finds the disk full evicts the least recently used content and completes', async () => {
    // no limit: the watermarks are of the disk, and 100 % is never passed, so only ENOSPC evicts
    const dataDir = await tmpfs('8m')
    const node = await h.node({ dataDir, gcHighPercent: 100, gcLowPercent: 99 })
    const evicted: EvictedContent[] = []
    node.addEventListener('evicted', ({ detail }) => { evicted.push(detail) })
    const held = await Promise.all(['E1', 'E2', 'E3'].map(async n => await content(seeder, n)))
    for (const one of held) await within('fetch', 20_000, node.fetch(one.cid))
    assert.equal(evicted.length, 0)
    const more = await content(seeder, 'E4')
    const result = await within('fetch E4', 30_000, node.fetch(more.cid))
    assert.equal(await sha256File(result.path), more.hash)
    assert.ok(evicted.length >= 1, 'something was evicted for room')
    assert.equal(evicted[0]?.cid, held[0]?.cid, 'the least recently used went first')
    assert.ok(evicted.every(e => e.reason === 'disk-full'))
    const left = new Map((await node.ls()).map(i => [i.cid, i]))
    for (const one of held) {
      const info = left.get(one.cid)
      assert.equal(info !== undefined, !evicted.some(e => e.cid === one.cid))
      if (info !== undefined) assert.equal(await sha256File(info.path), one.hash, `${one.cid} is unharmed`)
    }
  })

  it('with nothing evictable, the download that finds the disk full stops with ERR_DISK_FULL and the others are unharmed', async () => {
    const dataDir = await tmpfs('6m')
    const node = await h.node({ dataDir, gcHighPercent: 100, gcLowPercent: 99 })
    const held = await Promise.all(['F1', 'F2'].map(async n => await content(seeder, n)))
    for (const one of held) {
      await within('fetch', 20_000, node.fetch(one.cid))
      await node.pin(one.cid)
    }
    const more = await content(seeder, 'F3')
    await assert.rejects(within('fetch F3', 30_000, node.fetch(more.cid)), (err: Error & { code?: string }) => err.code === 'ERR_DISK_FULL')
    const left = new Map((await node.ls()).map(i => [i.cid, i]))
    for (const one of held) assert.equal(await sha256File(left.get(one.cid)!.path), one.hash, `${one.cid} is unharmed`)
    assert.equal(node.cacheStats().evictions['disk-full'], 0)
  })
})
