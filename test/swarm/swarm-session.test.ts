import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { SwarmSession } from '../../src/swarm/swarm-session.js'
import { Availability } from '../../src/swarm/availability.js'
import { Content, MemorySink, SimNetwork } from './simulator.js'
import { Bitfield } from '../../src/util/bitfield.js'
import type { VirtualPeerInit } from './simulator.js'
import type { SwarmSessionInit } from '../../src/swarm/swarm-session.js'

const sessions: SwarmSession[] = []
const controllers: AbortController[] = []

afterEach(() => {
  // Stop anything a failed test left running.
  for (const c of controllers.splice(0)) c.abort()
  sessions.length = 0
})

interface Setup { content: Content, sink: MemorySink, net: SimNetwork, session: SwarmSession, controller: AbortController }

function setup (chunks: number, peers: Record<string, Partial<VirtualPeerInit> & { indexes?: number[] }>, init: Partial<SwarmSessionInit> = {}, chunkSize = 1024): Setup {
  const content = new Content(chunks, chunkSize)
  const sink = new MemorySink(content)
  const net = new SimNetwork()
  const session = new SwarmSession({ transport: net.transport(), sink, chunkSize, ...init })
  for (const [id, p] of Object.entries(peers)) {
    const has = p.indexes !== undefined ? content.fieldOf(p.indexes) : content.full()
    net.add(id, { ...p, has, data: i => content.chunks[i] })
    session.addPeer(id, has)
  }
  const controller = new AbortController()
  controllers.push(controller)
  sessions.push(session)
  return { content, sink, net, session, controller }
}

function range (from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i)
}

/** Runs the session to its end, aborted after `ms` so a session that would wait forever fails instead of hanging. */
async function runBounded (s: Setup, ms = 15_000): Promise<void> {
  const bound = setTimeout(() => { s.controller.abort() }, ms)
  try {
    await s.session.run({ signal: s.controller.signal })
  } finally {
    clearTimeout(bound)
  }
}

function assertComplete (s: Setup): void {
  assert.equal(s.sink.have.complete, true)
  assert.equal(s.session.missing, 0)
  for (let i = 0; i < s.content.count; i++) {
    assert.equal(s.sink.writes[i], 1, `chunk ${i} written ${s.sink.writes[i]} times`)
    assert.deepEqual(s.sink.data[i], s.content.chunks[i])
  }
}

describe('SwarmSession', () => {
  it('downloads from several peers, writing every chunk once, verified', async () => {
    let throttled = 0
    const s = setup(300, {
      a: { delayMs: 1, indexes: range(0, 200) },
      b: { delayMs: 3, indexes: range(100, 300) },
      c: { delayMs: 5 },
      d: { delayMs: 2, indexes: range(0, 300).filter(i => i % 2 === 0) }
    }, { throttleDownload: async () => { throttled++ } })
    const chunkEvents: number[] = []
    let progress = 0
    let done = 0
    s.session.addEventListener('chunk', e => chunkEvents.push(e.detail.index))
    s.session.addEventListener('progress', () => progress++)
    s.session.addEventListener('done', () => done++)
    const t0 = performance.now()
    await s.session.run({ signal: s.controller.signal })
    const ms = performance.now() - t0
    assertComplete(s)
    assert.equal(chunkEvents.length, 300)
    assert.equal(new Set(chunkEvents).size, 300)
    assert.equal(done, 1)
    assert.ok(progress >= 1 && progress <= ms / 250 + 2, `${progress} progress events in ${ms.toFixed(0)} ms`)
    assert.equal(throttled, s.session.stats.requests)
    const perPeer = [...s.session.stats.bytesByPeer.values()].reduce((a, b) => a + b, 0)
    assert.equal(perPeer, s.session.stats.bytes + s.session.stats.wastedBytes)
    console.log(`# 300 chunks from 4 peers in ${ms.toFixed(0)} ms; per peer ${JSON.stringify(Object.fromEntries(s.session.stats.bytesByPeer))}, duplicates ${s.session.stats.duplicates}`)
  })

  it('asks a peer for the chunks only it holds first (rarest-first)', async () => {
    const s = setup(100, {
      a: { delayMs: 2 },
      b: { delayMs: 2, indexes: range(0, 90) },
      c: { delayMs: 2, indexes: range(0, 90) },
      d: { delayMs: 2, indexes: range(0, 90) }
    }, { randomFirst: 0 })
    await s.session.run({ signal: s.controller.signal })
    assertComplete(s)
    const toA = s.net.log.filter(r => r.startsWith('a:')).map(r => Number(r.slice(2)))
    assert.deepEqual(toA.slice(0, 10).sort((x, y) => x - y), range(90, 100))
  })

  it('bans a peer that sends corrupt chunks and completes from honest peers', async () => {
    const s = setup(100, { evil: { delayMs: 1, corrupt: true }, good1: { delayMs: 4 }, good2: { delayMs: 6 } })
    const banned: string[] = []
    s.session.addEventListener('banned', e => banned.push(e.detail.peer))
    await s.session.run({ signal: s.controller.signal })
    assertComplete(s)
    assert.deepEqual(banned, ['evil'])
    assert.equal(s.session.isBanned('evil'), true)
    const evilAsked = s.net.log.filter(r => r.startsWith('evil:')).length
    assert.ok(evilAsked <= 2, `evil was asked ${evilAsked} times; only its first batch (depth 2) should go out`)
    s.session.addPeer('evil', s.content.full())
    assert.equal(s.session.peerInfo('evil'), undefined, 'a banned peer is not re-admitted')
    assert.ok(s.session.stats.wastedBytes > 0)
  })

  it('shares one availability view: reads what others fed into it and bans into it for every reader', async () => {
    // the node's view of the content, fed by its gossip listener before and during the download
    const view = new Availability(40)
    const content = new Content(40, 1024)
    const net = new SimNetwork()
    net.add('evil', { has: content.full(), data: i => content.chunks[i], delayMs: 1, corrupt: true })
    net.add('good', { has: content.full(), data: i => content.chunks[i], delayMs: 3 })
    view.peerBitfield('evil', content.full())
    const session = new SwarmSession({ transport: net.transport(), sink: new MemorySink(content), chunkSize: 1024, availability: view })
    const controller = new AbortController()
    controllers.push(controller)
    session.addPeer('evil')
    session.addPeer('good')
    const run = session.run({ signal: controller.signal })
    // good's holdings arrive through the view only (a HAVE the node recorded), never through the session
    view.peerHave('good', range(0, 40))
    await run
    assert.equal(session.missing, 0)
    assert.equal(session.isBanned('evil'), true)
    assert.equal(view.isBanned('evil'), true, 'the ban is in the shared view')
    assert.equal(view.bitfield('evil'), undefined, 'the banned peer holds nothing for the view\'s other readers')
    view.peerBitfield('evil', content.full())
    view.peerHave('evil', [1, 2])
    assert.equal(view.count(1), 1, 'what a banned peer announces later counts for nothing')
    // a later session of the same content starts with the ban
    const next = new SwarmSession({ transport: net.transport(), sink: new MemorySink(content), chunkSize: 1024, availability: view })
    next.addPeer('evil', content.full())
    assert.equal(next.isBanned('evil'), true)
    assert.equal(next.peerInfo('evil'), undefined)
  })

  it('re-queues chunks of a peer that disconnects mid-transfer', async () => {
    const s = setup(60, { flaky: { delayMs: 5, disconnectAfter: 3 }, steady: { delayMs: 8 } }, { initialDepth: 6 })
    await s.session.run({ signal: s.controller.signal })
    assertComplete(s)
    const flaky = s.net.peers.get('flaky')!
    assert.equal(flaky.served, 3)
    const askedFlaky = s.net.log.filter(r => r.startsWith('flaky:')).map(r => r.slice(6))
    assert.ok(askedFlaky.length > 3, 'flaky had requests pending when it vanished')
    const unserved = askedFlaky.slice(3)
    for (const index of unserved) assert.ok(s.net.log.includes(`steady:${index}`), `chunk ${index} re-requested from steady`)
    assert.equal(s.session.peerInfo('flaky'), undefined)
  })

  it('strikes and drops a peer whose requests time out', async () => {
    const s = setup(40, { stuck: { hang: true }, ok: { bytesPerSecond: 100 * 1024 } }, { initialRequestTimeoutMs: 60, maxStrikes: 2, initialDepth: 2, maxDepth: 2 })
    const dropped: string[] = []
    s.session.addEventListener('dropped', e => dropped.push(e.detail.peer))
    await s.session.run({ signal: s.controller.signal })
    assertComplete(s)
    assert.deepEqual(dropped, ['stuck'])
    assert.ok(s.session.stats.timeouts >= 2)
    assert.ok(s.net.peers.get('stuck')!.pending.size === 0, 'timed out requests were aborted')
  })

  it('lowers the depth of a peer with strikes and orders it last', async () => {
    const s = setup(40, { stuck: { hang: true }, ok: { bytesPerSecond: 100 * 1024 } }, { initialRequestTimeoutMs: 40, maxStrikes: 10, initialDepth: 4, maxDepth: 4 })
    const run = s.session.run({ signal: s.controller.signal })
    await sleep(60)
    const info = s.session.peerInfo('stuck')!
    assert.ok(info.strikes >= 1)
    assert.ok(info.depth < 4, `depth ${info.depth} after ${info.strikes} strikes`)
    await run
    assertComplete(s)
  })

  it('reports a stall once, does not spin, and resumes when a holder appears', async () => {
    const missing = 7
    const s = setup(50, { a: { delayMs: 1, indexes: range(0, 50).filter(i => i !== missing) } })
    const stalls: Array<{ missing: number, missingIndexes: number[] }> = []
    s.session.addEventListener('stalled', e => stalls.push(e.detail))
    const run = s.session.run({ signal: s.controller.signal })
    for (let i = 0; i < 100 && stalls.length === 0; i++) await sleep(10)
    assert.deepEqual(stalls, [{ missing: 1, missingIndexes: [missing] }])
    const calls = s.net.calls
    const passes = s.session.stats.passes
    await sleep(1000)
    console.log(`# during a 1 s stall: ${s.net.calls - calls} transport calls, ${s.session.stats.passes - passes} scheduler passes`)
    assert.equal(s.net.calls, calls)
    assert.ok(s.session.stats.passes - passes <= 2)
    assert.equal(stalls.length, 1)
    s.net.add('late', { has: s.content.fieldOf([missing]), data: i => s.content.chunks[i] })
    s.session.addPeer('late', s.content.fieldOf([missing]))
    await run
    assertComplete(s)
  })

  it('aborts promptly, cancelling requests in flight', async () => {
    const s = setup(20, { a: { hang: true }, b: { hang: true } })
    const run = s.session.run({ signal: s.controller.signal })
    await sleep(30)
    const inFlight = s.net.peers.get('a')!.pending.size + s.net.peers.get('b')!.pending.size
    assert.ok(inFlight > 0)
    const t0 = performance.now()
    s.controller.abort()
    await assert.rejects(run, (err: Error & { code?: string }) => err.code === 'ERR_ABORTED')
    const ms = performance.now() - t0
    assert.ok(ms < 500, `abort took ${ms.toFixed(0)} ms`)
    assert.equal(s.net.peers.get('a')!.pending.size + s.net.peers.get('b')!.pending.size, 0)
    assert.equal(s.net.aborted, inFlight)
  })

  it('in endgame asks at most two peers per chunk and cancels the loser', async () => {
    const s = setup(6, { fast: { delayMs: 5 }, slow1: { delayMs: 400 }, slow2: { delayMs: 400 } }, { randomFirst: 0, initialDepth: 2 })
    const t0 = performance.now()
    await s.session.run({ signal: s.controller.signal })
    const ms = performance.now() - t0
    assertComplete(s)
    assert.ok(s.session.stats.duplicates > 0)
    assert.equal(s.net.maxConcurrentPerIndex, 2)
    assert.ok(s.net.aborted > 0, 'losing duplicates were cancelled')
    assert.equal(s.net.peers.get('slow1')!.pending.size + s.net.peers.get('slow2')!.pending.size, 0)
    console.log(`# endgame: 6 chunks in ${ms.toFixed(0)} ms (slow peers answer in 400 ms), ${s.session.stats.duplicates} duplicates, ${s.net.aborted} cancelled`)
  })

  it('completes at once when every chunk is already held', async () => {
    const content = new Content(4, 16)
    const sink = new MemorySink(content, content.full())
    const session = new SwarmSession({ transport: new SimNetwork().transport(), sink, chunkSize: 16 })
    let done = 0
    session.addEventListener('done', () => done++)
    await session.run()
    assert.equal(done, 1)
    await assert.rejects(session.run(), (err: Error & { code?: string }) => err.code === 'ERR_SWARM_STATE')
  })

  it('keeps a peer that says "ask elsewhere" as a holder, and takes the chunk from it later', async () => {
    // s holds everything and sends every first ask elsewhere, as a seeder does when gossip says
    // others hold the chunk; those "others" (l) announce all and hold nothing.
    const asked = new Map<number, number>()
    const s = setup(8, {
      s: { admit: (_from, i) => { asked.set(i, (asked.get(i) ?? 0) + 1); return asked.get(i) === 1 ? 'elsewhere' : 'ok' } },
      l: {}
    }, { elsewhereRetryMs: 20, maxStrikes: 2 })
    // l claims every chunk but holds none: each ask gets NOT_HELD
    s.net.peers.get('l')!.init.has = new Bitfield(8)
    // bounded: the old session struck s off for the refusals and then waited forever
    await runBounded(s)
    assertComplete(s)
    for (let i = 0; i < 8; i++) assert.equal(asked.get(i), 2, `chunk ${i}: one refusal, then served`)
    assert.notEqual(s.session.peerInfo('s'), undefined, 'not struck off for a hint')
  })

  it('takes a chunk a peer sent us elsewhere for from another holder before anything else', async () => {
    // s sends every chunk r claims elsewhere (r is always busy); q holds those too, and rarer ones
    // (0-14, only on q). Picked at their rarity, the refused chunks waited behind q's rarer ones until
    // the deferral ran out and s, its refusal window over, sent them after all: a seeder's duplicates.
    const refused = new Set<number>()
    const askedAtQ = new Set<number>()
    const violations: string[] = []
    const s = setup(40, {
      s: { delayMs: 10, indexes: range(15, 40), admit: (_from, i) => { if (i < 30 && !refused.has(i)) { refused.add(i); return 'elsewhere' } return 'ok' } },
      r: { indexes: range(15, 30), admit: () => 'busy' },
      q: {
        delayMs: 15,
        indexes: range(0, 30),
        admit: (_from, i) => {
          const waiting = [...refused].filter(k => !askedAtQ.has(k) && !s.sink.have.has(k))
          if (waiting.length > 0 && !refused.has(i)) violations.push(`q asked for ${i} while ${waiting.join(',')} waited`)
          askedAtQ.add(i)
          return 'ok'
        }
      }
    }, { elsewhereRetryMs: 60_000, randomFirst: 0, initialDepth: 1, minDepth: 1, maxDepth: 1 })
    await runBounded(s)
    assertComplete(s)
    assert.equal(refused.size, 15)
    assert.deepEqual(violations, [])
  })

  it('in endgame does not ask a peer that sent us elsewhere for a chunk for a duplicate of it while others hold it', async () => {
    // s refuses the first ask of 0-3 (as a seeder whose copy is on its way); q announces them later
    // and serves slowly; once s's deferrals end, only an endgame duplicate could take them from s
    const asks = new Map<number, number>()
    const s = setup(8, {
      s: { delayMs: 5, admit: (_from, i) => { asks.set(i, (asks.get(i) ?? 0) + 1); return i < 4 && asks.get(i) === 1 ? 'elsewhere' : 'ok' } },
      q: { delayMs: 400, indexes: [] }
    }, { elsewhereRetryMs: 100, initialDepth: 4, randomFirst: 0 })
    setTimeout(() => {
      s.net.peers.get('q')!.init.has = s.content.fieldOf(range(0, 4))
      s.session.peerHave('q', range(0, 4))
    }, 50)
    await runBounded(s)
    assertComplete(s)
    for (let i = 0; i < 4; i++) assert.equal(asks.get(i), 1, `chunk ${i} asked of s ${asks.get(i)} times`)
  })

  it('asks again with lastResort once the other claimed holders are gone, and at once when only banned peers claimed the chunk', async () => {
    // s sends every ask elsewhere unless the asker says it has no other source; l claims every
    // chunk and holds none (NOT_HELD), c corrupts every chunk it serves and is banned
    const lastResorts: number[] = []
    const excludedSeen = new Set<string>()
    const s = setup(16, {
      s: {
        delayMs: 2,
        admit: (_from, i, lastResort, excluded) => {
          if (lastResort) lastResorts.push(i)
          for (const p of excluded ?? []) excludedSeen.add(p)
          return lastResort ? 'ok' : 'elsewhere'
        }
      },
      l: { delayMs: 1 },
      c: { delayMs: 1, corrupt: true }
    }, { elsewhereRetryMs: 20 })
    s.net.peers.get('l')!.init.has = new Bitfield(16)
    await runBounded(s)
    assertComplete(s)
    assert.equal(s.session.isBanned('c'), true)
    assert.deepEqual([...new Set(lastResorts)].sort((a, b) => a - b), range(0, 16), 'every chunk came from s, each asked with lastResort')
    // the requests after the ban name the banned peer (a seeder can stop counting its claims), and only it:
    // l failed (NOT_HELD) but was never caught serving bad bytes
    assert.deepEqual([...excludedSeen], ['c'])
  })

  it('does not say lastResort when no claim failed it (the first copy may be on its way to another peer)', async () => {
    const asks: string[] = []
    const seen = new Map<number, number>()
    const s = setup(6, {
      s: { delayMs: 1, admit: (_from, i, lastResort) => { asks.push(`${i}${lastResort ? '!' : ''}`); seen.set(i, (seen.get(i) ?? 0) + 1); return seen.get(i) === 1 ? 'elsewhere' : 'ok' } }
    }, { elsewhereRetryMs: 20 })
    await s.session.run({ signal: s.controller.signal })
    assertComplete(s)
    assert.equal(asks.filter(a => a.endsWith('!')).length, 0, `asked: ${asks.join(' ')}`)
  })

  it('does not wait out a deferral when only banned peers claimed the chunk', async () => {
    // a retry far beyond the bound: only the at-once path can finish
    const s = setup(8, {
      s: { delayMs: 2, admit: (_from, _i, lastResort) => lastResort ? 'ok' : 'elsewhere' },
      c: { delayMs: 1, corrupt: true }
    }, { elsewhereRetryMs: 600_000, initialDepth: 8 })
    await runBounded(s)
    assertComplete(s)
    assert.equal(s.session.isBanned('c'), true)
  })

  it('keeps requests in flight over all peers within the budget of its measured rate (unless far behind its peers), and spreads them with depth 1', async () => {
    const peers = Object.fromEntries(range(0, 12).map(i => [`p${i}`, { delayMs: 20 }]))
    const count = (init: Partial<SwarmSessionInit>): { s: Setup, max: () => number } => {
      let inFlight = 0
      let max = 0
      // counts the requests in flight at once while half the chunks are still missing (not yet endgame)
      const counting = (inner: SwarmSessionInit['transport']): SwarmSessionInit['transport'] => ({
        requestChunk: async (peer, index, o) => {
          inFlight++
          if (session.missing > 60) max = Math.max(max, inFlight)
          try {
            return await inner.requestChunk(peer, index, o)
          } finally {
            inFlight--
          }
        }
      })
      const content = new Content(120, 1024)
      const sink = new MemorySink(content)
      const net = new SimNetwork()
      const session = new SwarmSession({ transport: counting(net.transport()), sink, chunkSize: 1024, ...init })
      for (const id of Object.keys(peers)) {
        net.add(id, { ...peers[id], has: content.full(), data: i => content.chunks[i] })
        session.addPeer(id, content.full())
      }
      const controller = new AbortController()
      controllers.push(controller)
      return { s: { content, sink, net, session, controller }, max: () => max }
    }
    // 1 KiB chunks every ~20 ms from each peer: a budget of 1 ms of that rate is the floor of 3.
    // Every peer holds everything and we hold nothing, so we are a late joiner: told not to mind
    // (catchUpLag Infinity), the cap holds
    const capped = count({ targetTotalQueueMs: 1, minTotalRequests: 3, minDepth: 1, catchUpLag: Infinity })
    await runBounded(capped.s)
    assertComplete(capped.s)
    assert.ok(capped.max() <= 3, `at most 3 in flight, saw ${capped.max()}`)
    assert.ok(capped.max() >= 2, `the budget is used, saw ${capped.max()}`)
    // by default a download that far behind its peers is not capped: it asks every one of them
    const behind = count({ targetTotalQueueMs: 1, minTotalRequests: 3, minDepth: 1 })
    await runBounded(behind.s)
    assertComplete(behind.s)
    assert.ok(behind.max() >= 12, `a late joiner asks every peer at once, saw ${behind.max()}`)
    // without the cap every peer holds its depth: far more at once
    const open = count({ targetTotalQueueMs: Infinity, minDepth: 1 })
    await runBounded(open.s)
    assertComplete(open.s)
    assert.ok(open.max() >= 12, `every peer asked at once without the cap, saw ${open.max()}`)
  })

  it('runs a pass for news that can change a pick, not for a HAVE of a chunk already in flight', async () => {
    const asked: number[] = []
    const have = new Bitfield(8)
    const session = new SwarmSession({
      // requests never answer: what is in flight stays in flight
      transport: { requestChunk: async (_peer, index, o) => { asked.push(index); return await new Promise((_resolve, reject) => { o.signal.addEventListener('abort', () => { reject(o.signal.reason) }) }) } },
      sink: { have, verify: () => true, write: async () => {} },
      chunkSize: 1024,
      initialDepth: 2,
      maxDepth: 2,
      minDepth: 2
    })
    // a holds 0-3 and takes two requests: two chunks in flight, two still pickable (no endgame)
    const fromA = new Bitfield(8)
    for (const i of [0, 1, 2, 3]) fromA.set(i)
    session.addPeer('a', fromA)
    const controller = new AbortController()
    controllers.push(controller)
    const run = session.run({ signal: controller.signal }).catch(() => {})
    await sleep(20)
    const inFlight = [...asked]
    assert.equal(inFlight.length, 2)
    const passes = session.stats.passes
    session.peerHave('b', inFlight)
    await sleep(20)
    assert.equal(session.stats.passes, passes, 'both chunks b announced are in flight: b offers nothing to pick')
    session.peerHave('b', [5])
    await sleep(20)
    assert.equal(session.stats.passes, passes + 1)
    assert.deepEqual(asked, [...inFlight, 5])
    controller.abort()
    await run
  })
})

