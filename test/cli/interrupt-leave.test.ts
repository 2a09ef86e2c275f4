import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ShoalNetwork } from '../../src/net/index.js'
import { spawnShoal } from './helpers.js'

// Ctrl-C on a seeding `shoal` must announce LEAVE on the content's gossip topic before the process
// exits, so peers drop it from their availability view at once instead of waiting for the
// connection to time out. A real `shoal seed` process is interrupted while an in-process node
// watches the topic; the 'leave' event (not a disconnect) is what the test waits for.
describe('shoal seed interrupted with SIGINT', () => {
  const dirs: string[] = []
  const networks: ShoalNetwork[] = []
  after(async () => {
    await Promise.allSettled(networks.map(async n => { await n.stop() }))
    await Promise.allSettled(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
  })

  it('announces LEAVE, saves state and exits 0', async () => {
    const work = await mkdtemp(join(tmpdir(), 'shoal-leave-'))
    dirs.push(work)
    const file = join(work, 'payload.bin')
    await writeFile(file, randomBytes(512 * 1024))
    const seeder = spawnShoal(['seed', file, '--json', '--data-dir', join(work, 'seeder'), '--listen', '/ip4/127.0.0.1/tcp/0', '--chunk-size', '64k'])
    const result = await seeder.waitForLine(l => l.type === 'result', 30_000)
    const cid = String(result.cid)
    const seederId = String(result.peerId)
    const chunks = Number(result.chunks)

    const watcher = new ShoalNetwork({ dataDir: join(work, 'watcher'), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: result.multiaddrs as string[] })
    networks.push(watcher)
    await watcher.start()
    const announcer = watcher.joinContent(cid, chunks)
    // the seeder's full bitfield shows the gossip path works before the interrupt
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('no BITFIELD from the seeder within 20 s')) }, 20_000)
      const listening = new AbortController()
      announcer.addEventListener('bitfield', ({ detail: { peer, bitfield } }) => {
        if (peer === seederId && bitfield.complete) { clearTimeout(timer); listening.abort(); resolve() }
      }, { signal: listening.signal })
    })
    assert.equal(announcer.isMember(seederId), true)

    const left = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('no LEAVE from the seeder within 15 s of SIGINT')) }, 15_000)
      announcer.addEventListener('leave', ({ detail: { peer, reason } }) => {
        if (peer !== seederId) return
        clearTimeout(timer)
        if (reason === 'leave') resolve()
        else reject(new Error(`the seeder left the view by ${reason}, without announcing LEAVE first`))
      })
    })
    seeder.child.kill('SIGINT')
    await left
    assert.equal(announcer.isMember(seederId), false, 'the seeder is gone from the members')
    const { code } = await seeder.exited
    assert.equal(code, 0, `seeding until interrupted is a normal end; stderr: ${seeder.stderr()}`)
  })
})
