// Bad peers must never stall a download: receivers that corrupt every chunk they serve, and
// identities that announce every chunk and serve nothing. The bad peers are real processes (the
// corrupters real nodes with the corrupting-uploads test hook on, the liars bare networks that serve
// nothing); the seeder and the honest receivers are nodes in this process.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { DEFAULT_INITIAL_DEPTH } from '../../src/swarm/constants.js'
import { TEST_HOOK_CORRUPT_UPLOADS_ENV, TEST_HOOKS_ENV } from '../../src/node/constants.js'
import type { ShoalNode } from '../../src/node/shoal-node.js'
import type { BannedEvent } from '../../src/node/types.js'
import { CHUNK, Harness, LIAR_RUNNER, randomFile, sha256File, within } from './helpers.js'
import type { NodeProcess } from './helpers.js'

const CHUNKS = 64
const SIZE = CHUNKS * CHUNK
const RECEIVERS = 8
// Generous: a clean run of this size takes a few seconds; on the old code the honest receivers never
// finished (the seeder refused every chunk the corrupters were said to hold).
const DOWNLOAD_BOUND_MS = 90_000
/** A corrupter's environment: the hook, its guard, and the upload trace that says what it sent to whom. */
const CORRUPTER_ENV = { [TEST_HOOKS_ENV]: '1', [TEST_HOOK_CORRUPT_UPLOADS_ENV]: '1', DEBUG: 'shoal:node:upload', DEBUG_COLORS: '0' }
// "<time> shoal:node:upload [<node tag>] <mode> <peer> <index>"
const UPLOAD_LINE = /shoal:node:upload (?:\[[^\]\s]*\] )?\S+ (\S+) (\d+)\s*$/

/** Chunks a process's upload trace shows sent, per receiving peer. */
function uploadsByPeer (proc: NodeProcess): Map<string, number> {
  const counts = new Map<string, number>()
  for (const line of proc.stderr.split('\n')) {
    const m = UPLOAD_LINE.exec(line)
    if (m !== null) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1)
  }
  return counts
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
    // Their own downloads verify what they get; only what they serve is corrupted, on the wire.
    const bad = await Promise.all(Array.from({ length: corrupters }, async () => {
      const proc = h.process({ init: await h.init(), get: { cid, out: await h.tempDir() } }, { env: CORRUPTER_ENV })
      const ready = await proc.waitFor('corrupter start', m => m.type === 'ready')
      await proc.waitFor('corrupter download', m => m.type === 'done', 30_000)
      return { proc, id: String(ready.peerId) }
    }))
    const badIds = new Set(bad.map(b => b.id))

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
    const sent = bad.map(b => uploadsByPeer(b.proc))
    const toHonest = sent.map(counts => honest.map(r => counts.get(r.peerId) ?? 0))
    console.log(`# ${corrupters} corrupters of ${RECEIVERS} (real processes): honest receivers done in ${Math.round(tookMs)} ms; ` +
      `chunks each corrupter sent each honest receiver: ${toHonest.map(list => list.join('/')).join(', ')}; bans per receiver: ${bans.map(b => b.length).join(', ')}`)
    assert.ok(toHonest.some(list => list.some(n => n > 0)), 'no corrupter served anything: the scenario tested nothing')
    for (const [i, list] of bans.entries()) {
      for (const e of list) {
        assert.ok(badIds.has(e.peer), `receiver ${i} banned an honest peer: ${JSON.stringify(e)}`)
        assert.equal(e.cid, cid)
      }
      for (const [k, { id }] of bad.entries()) {
        const n = list.filter(e => e.peer === id).length
        // One ban per corrupter and receiver, at its first bad chunk: nothing is asked of it after that,
        // so all it ever sent that receiver is what was in flight then (a peer of unknown rate gets the
        // initial depth, and a corrupter never delivers the good chunk that would measure a rate).
        assert.ok(n <= 1, `receiver ${i} banned ${id} ${n} times`)
        const got = toHonest[k]![i]!
        assert.ok(got <= DEFAULT_INITIAL_DEPTH, `corrupter ${k} sent receiver ${i} ${got} chunks: it was asked again after its first bad chunk`)
        if (got > 0) assert.equal(n, 1, `receiver ${i} took ${got} chunk(s) from corrupter ${k} without banning it`)
      }
    }
  } finally {
    await h.cleanup()
  }
}

describe('receivers that corrupt every chunk they serve', { timeout: 240_000 }, () => {
  it('2 of 8: every honest receiver finishes bit-identical, banning each corrupter at its first bad chunk', async () => {
    await corruptersScenario(2)
  })

  it('3 of 8: the same', async () => {
    await corruptersScenario(3)
  })
})

/** A process announcing every chunk of `cid` on gossip while serving nothing, in the seeder's topic mesh. */
async function liar (h: Harness, cid: string, seeder: ShoalNode): Promise<NodeProcess> {
  const init = await h.init()
  const proc = h.process({ dataDir: init.dataDir, listen: init.listen, bootstrap: init.bootstrap ?? [], dial: seeder.multiaddrs[0]!, cid, chunks: CHUNKS, waitFor: seeder.peerId }, { script: LIAR_RUNNER })
  await proc.waitFor('the liar and the seeder sharing the topic', m => m.type === 'ready', 30_000)
  return proc
}

describe('identities that announce every chunk and serve nothing', { timeout: 120_000 }, () => {
  const h = new Harness()
  after(async () => {
    await Promise.all(h.procs.map(async p => { await p.stop() }))
    await h.cleanup()
  })

  it('delay a newcomer by little: the seeder serves it as it would without them', async () => {
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
    // the same newcomer's download without liars, for the delay printed below
    const control = await h.node()
    let started = performance.now()
    await within('the control newcomer\'s download', 60_000, control.get(cid, { out: await h.tempDir() }))
    const cleanMs = performance.now() - started
    await control.stop()

    await Promise.all([liar(h, cid, seeder), liar(h, cid, seeder)])
    // their bitfields were published before the seeder's answer came back; give them a moment to land
    await new Promise(resolve => setTimeout(resolve, 1000))

    const newcomer = await h.node()
    started = performance.now()
    // On the old code the seeder answered NOT_HELD for every chunk (two "holders" each): 0 chunks in 75 s.
    const result = await within('the newcomer\'s download', 60_000, newcomer.get(cid, { out: await h.tempDir() }))
    const liedToMs = performance.now() - started
    console.log(`# newcomer done in ${Math.round(liedToMs)} ms beside two liars (real processes), ${Math.round(cleanMs)} ms without them: delay ${Math.round(liedToMs - cleanMs)} ms`)
    assert.equal(await sha256File(result.path), hash)
  })
})
