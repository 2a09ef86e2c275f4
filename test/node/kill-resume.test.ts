import assert from 'node:assert/strict'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import type { ContentInfo, GetResult } from '../../src/node/types.js'
import { CHUNK, Harness, randomFile, sha256File, within } from './helpers.js'
import type { RunnerMessage } from './helpers.js'

function have (m: RunnerMessage): number {
  return m.type === 'progress' ? Number(m.have) : -1
}

describe('killed nodes', () => {
  const h = new Harness()
  before(async () => { await h.startBootstrap() })
  after(async () => { await h.cleanup() })

  it('the seeder SIGKILLed once every chunk exists elsewhere does not stop completion', async () => {
    const size = 2 * 1024 * 1024
    const dir = await h.tempDir()
    const source = join(dir, 'big.bin')
    await randomFile(source, size)
    const hash = await sha256File(source)
    const seeder = h.process({ init: await h.init(), add: source })
    const added = await seeder.waitFor('seeder add', m => m.type === 'added')
    const cid = (added.result as { cid: string }).cid

    // A holds every chunk; B and C are slow, so they are mid-way when the seeder dies
    const a = await h.node()
    const aResult = await within('A download', 20_000, a.get(cid, { out: await h.tempDir() }))
    assert.equal(await sha256File(aResult.path), hash)
    const slow = await Promise.all([h.node({ downloadLimit: 384 * 1024 }), h.node({ downloadLimit: 384 * 1024 })])
    const outs = await Promise.all(slow.map(async () => await h.tempDir()))
    const gets = slow.map(async (r, i) => await r.get(cid, { out: outs[i] }))
    const deadline = Date.now() + 20_000
    for (;;) {
      const [info] = await slow[0]!.ls()
      if (info !== undefined && info.have >= 3) {
        assert.ok(info.have < info.chunks, 'B finished before the seeder was killed; slow it more')
        break
      }
      assert.ok(Date.now() < deadline, 'B made no progress')
      await sleep(50)
    }
    await seeder.kill()
    const results = await within('downloads after the seeder died', 40_000, Promise.all(gets))
    for (const result of results) assert.equal(await sha256File(result.path), hash)
  })

  it('a receiver SIGKILLed mid-download resumes from its last commit: it keeps every chunk progress called durable', async () => {
    const size = 4 * 1024 * 1024
    const total = size / CHUNK
    const dir = await h.tempDir()
    const source = join(dir, 'resume.bin')
    await randomFile(source, size)
    const hash = await sha256File(source)
    // the only provider, throttled, so the kill lands mid-way and every byte it sends is counted
    const seeder = await h.node({ uploadLimit: 1024 * 1024 })
    const cid = (await seeder.add(source)).cid
    const init = await h.init()
    const out = await h.tempDir()

    const first = h.process({ init, get: { cid, out } })
    await first.waitFor('first run progress', m => have(m) >= 12, 30_000)
    // killed at once: progress counts only chunks committed to the journal (group commits, every
    // 200 ms), so what it last said is what the restart must hold; chunks in flight or verified but
    // not yet committed may be fetched again
    await first.kill()
    const durableAtKill = Math.max(...first.messages.map(have))
    // let the seeder notice the dead connection before its counter is read
    await sleep(1000)
    const uploadedBefore = (await seeder.status()).uploadedBytes

    const second = h.process({ init, get: { cid, out } })
    const opened = await second.waitFor('restart opened', m => m.type === 'opened')
    const [info] = opened.contents as ContentInfo[]
    assert.ok(info !== undefined, 'the restarted receiver does not remember the download')
    const held = info.have
    assert.ok(held > 0 && held < total, `held at restart: ${held} of ${total}`)
    assert.ok(held >= durableAtKill, `progress said ${durableAtKill} chunks were durable, the restart holds ${held}`)
    const done = await second.waitFor('restart done', m => m.type === 'done', 30_000)
    const result = done.result as GetResult
    const uploadedAfter = (await seeder.status()).uploadedBytes

    assert.equal(await sha256File(join(out, 'resume.bin')), hash)
    const sentBefore = uploadedBefore / CHUNK
    console.log(`# durable at kill (last progress) ${durableAtKill}, held at restart ${held}/${total}, sent before the kill ${sentBefore}, ` +
      `lost to the kill ${sentBefore - held}, fetched after restart ${result.fetchedChunks}, seeder sent ${(uploadedAfter - uploadedBefore) / CHUNK} chunks`)
    // the restarted run's progress starts from what it holds and never goes back
    const seen = second.messages.map(have).filter(n => n >= 0)
    assert.ok(seen.length > 0 && seen[0]! >= held, `first progress after restart: ${seen[0]}`)
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!, `progress went back: ${seen.join(',')}`)
    assert.equal(seen[seen.length - 1], total)
    assert.equal(result.fetchedChunks, total - held)
    // the seeder's own count: it sent exactly the chunks that were missing, none already held
    assert.equal(uploadedAfter - uploadedBefore, (total - held) * CHUNK)
  })
})
