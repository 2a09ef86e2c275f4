import assert from 'node:assert/strict'
import { copyFile, mkdir, open, stat, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { BannedEvent } from '../../src/node/types.js'
import { CHUNK, Harness, randomFile, sha256File, within } from './helpers.js'

describe('a peer serving corrupted chunks', () => {
  const h = new Harness()
  after(async () => { await h.cleanup() })

  it('is banned and every honest receiver still ends bit-identical', async () => {
    await h.startBootstrap()
    const size = 2 * 1024 * 1024
    const chunks = size / CHUNK
    const dir = await h.tempDir()
    const source = join(dir, 'data.bin')
    await randomFile(source, size)
    const hash = await sha256File(source)

    // R fetches an honest copy fast from a first seeder, which then leaves
    const first = await h.node()
    const cid = (await first.add(source)).cid
    const bad = await h.node()
    const badOut = await h.tempDir()
    const badCopy = (await within('R download', 20_000, bad.get(cid, { out: badOut }))).path
    assert.equal(await sha256File(badCopy), hash)
    await first.stop()

    // R's copy goes bad on disk: download-mode stores do not re-read-verify, so R now serves garbage.
    // Even chunks only, so R is also useful for a while and must be caught, not just ignored.
    const before = await stat(badCopy)
    const fh = await open(badCopy, 'r+')
    try {
      for (let i = 0; i < chunks; i += 2) await fh.write(Buffer.from([0xde, 0xad, 0xbe, 0xef]), 0, 4, i * CHUNK + 100)
    } finally {
      await fh.close()
    }
    await utimes(badCopy, before.atime, before.mtime)
    assert.notEqual(await sha256File(badCopy), hash)

    // the only honest holder left is slow, so R is the attractive source
    const honestDir = join(await h.tempDir(), 'copy')
    await mkdir(honestDir)
    await copyFile(source, join(honestDir, 'data.bin'))
    const honest = await h.node({ uploadLimit: 384 * 1024 })
    assert.equal((await honest.add(join(honestDir, 'data.bin'))).cid, cid)

    const receivers = await Promise.all([h.node(), h.node(), h.node()])
    const bans: BannedEvent[][] = receivers.map(() => [])
    receivers.forEach((r, i) => { r.addEventListener('banned', ({ detail }) => { bans[i]!.push(detail) }) })
    const outs = await Promise.all(receivers.map(async () => await h.tempDir()))
    const results = await within('honest downloads', 60_000, Promise.all(receivers.map(async (r, i) => await r.get(cid, { out: outs[i] }))))
    for (const [i, result] of results.entries()) {
      assert.equal(await sha256File(result.path), hash, `honest receiver ${i} holds different bytes`)
    }

    const badUploaded = (await bad.status()).uploadedBytes
    console.log(`# R uploaded ${badUploaded} B; bans per receiver: ${bans.map(b => b.length).join(', ')}`)
    const all = bans.flat()
    assert.ok(all.length > 0, `R uploaded ${badUploaded} B but nobody banned it`)
    for (const e of all) {
      assert.equal(e.peer, bad.peerId, `an honest peer was banned: ${JSON.stringify(e)}`)
      assert.equal(e.cid, cid)
    }
    // A ban is for good: no receiver bans R twice. Not every receiver need ban it: one that happened to
    // take only R's intact (odd) chunks, or none at all, has no reason to, and that is correct.
    for (const [i, list] of bans.entries()) assert.ok(list.length <= 1, `receiver ${i} banned R ${list.length} times`)
  })
})
