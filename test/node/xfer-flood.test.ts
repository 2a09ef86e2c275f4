// A peer that floods xfer streams it never reads must not exhaust a seeder: a real seeder process,
// an attacker libp2p node in this process writing raw REQUEST frames on 64 paused streams, and an
// honest receiver process fetching the same content at the same time.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { Uint8ArrayList } from 'uint8arraylist'
import { parseCid } from '../../src/content/index.js'
import { ShoalNetwork } from '../../src/net/index.js'
import { XFER_PROTOCOL } from '../../src/net/xfer/index.js'
import { encodeFrame } from '../../src/net/xfer/frame-codec.js'
import { Frame } from '../../src/net/xfer/pb/xfer.js'
import { Harness, randomFile, sha256File, waitUntil, within } from './helpers.js'
import type { NodeProcess } from './helpers.js'

// a valid CID nobody serves
const UNKNOWN = 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const STREAMS = 64
const REQUESTS_PER_STREAM = 50_000
const FRAMES_PER_WRITE = 500
const ATTACK_MS = 40_000
const MB = 1024 * 1024

async function rssOf (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)
  return kb === null ? 0 : Number(kb[1]) * 1024
}

async function waitForWrite (stream: Stream, signal: AbortSignal): Promise<void> {
  if (!stream.writableNeedsDrain) return
  await new Promise<void>(resolve => {
    const done = (): void => {
      stream.removeEventListener('drain', done)
      stream.removeEventListener('close', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    stream.addEventListener('drain', done)
    stream.addEventListener('close', done)
    signal.addEventListener('abort', done)
  })
}

/** Writes REQUESTs for unknown content on a paused stream until the count, the time or the stream ends. */
async function flood (stream: Stream, signal: AbortSignal): Promise<number> {
  const cid = parseCid(UNKNOWN).bytes
  let sent = 0
  let id = 1
  while (sent < REQUESTS_PER_STREAM && !signal.aborted && stream.status === 'open' && stream.writeStatus === 'writable') {
    const batch = new Uint8ArrayList()
    for (let i = 0; i < FRAMES_PER_WRITE; i++) batch.append(encodeFrame({ type: Frame.Type.REQUEST, requestId: id++, cid, index: 0 }))
    try {
      if (!stream.send(batch)) await waitForWrite(stream, signal)
    } catch {
      break
    }
    sent += FRAMES_PER_WRITE
  }
  return sent
}

describe('an xfer flood from one peer', { timeout: 180_000 }, () => {
  const h = new Harness()
  let attacker: ShoalNetwork | undefined

  before(async () => {
    await h.startBootstrap()
  })

  after(async () => {
    await attacker?.stop().catch(() => {})
    await h.cleanup()
  })

  it('is reset and bounded while an honest get completes bit-identical', async (t) => {
    const dir = await h.tempDir()
    const file = join(dir, 'served.bin')
    await randomFile(file, 4 * MB + 777)
    const hash = await sha256File(file)

    const seeder: NodeProcess = h.process({ init: await h.init(), add: file })
    const added = await seeder.waitFor('the seeder to add the file', m => m.type === 'added', 30_000)
    const cid = (added.result as { cid: string }).cid
    const ready = seeder.messages.find(m => m.type === 'ready')!
    const seederAddr = multiaddr((ready.multiaddrs as string[])[0]!)
    const pid = seeder.child.pid!
    // let start-up allocations settle before the baseline
    await new Promise(resolve => setTimeout(resolve, 1000))
    const before = await rssOf(pid)

    attacker = new ShoalNetwork({ dataDir: await h.tempDir(), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] })
    await attacker.start()
    await attacker.libp2p.dial(seederAddr)

    let peak = before
    let sampling = true
    t.after(() => { sampling = false })
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rssOf(pid).catch(() => 0))
        await new Promise(resolve => setTimeout(resolve, 200))
      }
    })()

    const stop = AbortSignal.timeout(ATTACK_MS)
    const streams: Stream[] = []
    const floods: Array<Promise<number>> = []
    for (let i = 0; i < STREAMS; i++) {
      let stream: Stream
      try {
        stream = await attacker.libp2p.dialProtocol(seederAddr, XFER_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
      } catch {
        continue // refused: the seeder no longer takes streams from this peer
      }
      try {
        // never read: no window updates, so everything the seeder answers stays on its side
        stream.pause()
      } catch {
        continue // reset by the seeder right after it opened
      }
      streams.push(stream)
      floods.push(flood(stream, stop))
    }

    const out = await h.tempDir()
    const receiver = h.process({ init: await h.init(), get: { cid, out } })

    const sent = await Promise.all(floods)
    // a flooded stream is reset by the seeder; give the last resets a moment to arrive
    await waitUntil('the attacker streams to be reset', () => streams.every(s => s.status !== 'open'), 10_000).catch(() => {})
    const stillOpen = streams.filter(s => s.status === 'open').length
    const done = await receiver.waitFor('the honest get to finish', m => m.type === 'done', 90_000)
    const path = (done.result as { path: string }).path
    assert.equal(await sha256File(path), hash, 'the honest copy is bit-identical')

    // the attacker leaves
    await attacker.stop()
    attacker = undefined
    await new Promise(resolve => setTimeout(resolve, 3000))
    sampling = false
    await sampler
    const afterRss = await rssOf(pid)

    const total = sent.reduce((a, b) => a + b, 0)
    t.diagnostic(`attacker opened ${streams.length} streams, wrote ${total} REQUEST frames`)
    t.diagnostic(`seeder RSS before ${(before / MB).toFixed(0)} MB, peak ${(peak / MB).toFixed(0)} MB (+${((peak - before) / MB).toFixed(0)} MB), after the attacker left ${(afterRss / MB).toFixed(0)} MB`)
    assert.equal(stillOpen, 0, `every attacker stream is reset: ${stillOpen} still open`)
    assert.ok(peak - before < 300 * MB, `seeder RSS grew by ${((peak - before) / MB).toFixed(0)} MB under the flood`)
    await within('the seeder still answering', 10_000, seeder.waitFor('ready', m => m.type === 'ready'))
  })
})
