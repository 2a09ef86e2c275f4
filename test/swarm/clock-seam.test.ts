import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { realClock } from '../../src/swarm/clock.js'
import { PeerBusyError, PeerDisconnectedError } from '../../src/swarm/errors.js'
import { SwarmSession } from '../../src/swarm/swarm-session.js'
import { TokenBucket } from '../../src/swarm/token-bucket.js'
import { Bitfield } from '../../src/util/bitfield.js'
import { EventQueue } from '../../sim/event-queue.js'
import { VirtualClock } from '../../sim/virtual-clock.js'
import type { Clock } from '../../src/swarm/clock.js'

interface PeerModel { id: string, delayMs: number, corrupt?: boolean, stall?: boolean }

interface Outcome {
  written: number[]
  verifiedPerChunk: number[]
  banned: string[]
  dropped: string[]
  elapsedMs: number
}

/**
 * One downloader and a few peers whose answers arrive after a fixed delay on `clock`. Everything
 * the session waits on goes through that clock, so the same swarm can run on real or virtual time.
 */
async function runSwarm (clock: Clock, peers: PeerModel[], chunks: number, sessionInit: Partial<ConstructorParameters<typeof SwarmSession>[0]> = {}): Promise<Outcome> {
  const good = Array.from({ length: chunks }, (_, i) => new Uint8Array(1024).fill(i + 1))
  const bad = new Uint8Array(1024).fill(0xee)
  const have = new Bitfield(chunks)
  const verified = new Array<number>(chunks).fill(0)
  const written: number[] = []
  const byId = new Map(peers.map(p => [p.id, p]))
  const session = new SwarmSession({
    transport: {
      requestChunk: async (peer, index, { signal }) => await new Promise<Uint8Array>((resolve, reject) => {
        const model = byId.get(peer)
        if (model === undefined) { reject(new PeerDisconnectedError(peer)); return }
        const onAbort = (): void => { clock.clearTimeout(timer); reject(signal.reason as Error) }
        // a staller accepts the request and never answers: only the session's timeout ends it
        const timer = model.stall === true
          ? undefined
          : clock.setTimeout(() => {
            signal.removeEventListener('abort', onAbort)
            resolve(model.corrupt === true ? bad : good[index]!)
          }, model.delayMs)
        signal.addEventListener('abort', onAbort, { once: true })
      })
    },
    sink: {
      have,
      verify: (index, data) => { verified[index]!++; return data === good[index] },
      write: async index => { written.push(index); have.set(index) }
    },
    chunkSize: 1024,
    random: () => 0.5,
    clock,
    ...sessionInit
  })
  const banned: string[] = []
  const dropped: string[] = []
  session.addEventListener('banned', e => { banned.push(e.detail.peer) })
  session.addEventListener('dropped', e => { dropped.push(e.detail.peer) })
  const full = new Bitfield(chunks)
  full.setAll()
  for (const p of peers) session.addPeer(p.id, full)
  const t0 = clock.now()
  await session.run({ signal: AbortSignal.timeout(20_000) })
  return { written: [...written].sort((a, b) => a - b), verifiedPerChunk: verified, banned: banned.sort(), dropped: dropped.sort(), elapsedMs: clock.now() - t0 }
}

async function onVirtualTime<T> (fn: (clock: VirtualClock) => Promise<T>): Promise<T> {
  const clock = new VirtualClock()
  let result: T | undefined
  let error: unknown
  let settled = false
  fn(clock).then(r => { result = r }, err => { error = err }).finally(() => { settled = true })
  await clock.run({ untilMs: 3_600_000, done: () => settled })
  // continuations of the last event may still be queued
  for (let i = 0; i < 10 && !settled; i++) await new Promise(resolve => setImmediate(resolve))
  assert.equal(settled, true, 'the swarm did not finish on virtual time')
  if (error !== undefined) throw error
  return result!
}

describe('clock seam: SwarmSession on virtual and on real time', () => {
  const peers: PeerModel[] = [
    { id: 'fast', delayMs: 4 },
    { id: 'slow', delayMs: 15 },
    { id: 'corrupt', delayMs: 2, corrupt: true }
  ]

  it('delivers the same chunks, verifies each once (plus the corrupt one) and bans the same peer', async () => {
    const chunks = 24
    const real = await runSwarm(realClock, peers, chunks)
    const virtual = await onVirtualTime(async clock => await runSwarm(clock, peers, chunks))
    console.log(`# real ${real.elapsedMs.toFixed(0)} ms, virtual ${virtual.elapsedMs.toFixed(0)} ms (virtual time)`)
    const all = Array.from({ length: chunks }, (_, i) => i)
    assert.deepEqual(real.written, all)
    assert.deepEqual(virtual.written, all)
    assert.deepEqual(virtual.banned, ['corrupt'])
    assert.deepEqual(real.banned, virtual.banned)
    assert.deepEqual(real.dropped, virtual.dropped)
    // each chunk verified once when it came from an honest peer; the corrupt peer's first answer is
    // the only failed verification, so the sums are chunks + 1 on both clocks
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)
    assert.equal(sum(real.verifiedPerChunk), chunks + 1)
    assert.equal(sum(virtual.verifiedPerChunk), chunks + 1)
  })

  it('times a stalling peer out on virtual time without waiting for it', async () => {
    const stalling: PeerModel[] = [{ id: 'ok', delayMs: 10 }, { id: 'staller', delayMs: 0, stall: true }]
    const started = performance.now()
    const out = await onVirtualTime(async clock => await runSwarm(clock, stalling, 8, { initialRequestTimeoutMs: 30_000, maxStrikes: 1, maxRequestersPerChunk: 1 }))
    const wallMs = performance.now() - started
    assert.deepEqual(out.written, Array.from({ length: 8 }, (_, i) => i))
    assert.deepEqual(out.dropped, ['staller'])
    // the 30 s timeout passed on the virtual clock; the wall clock bound is very generous
    assert.ok(out.elapsedMs >= 30_000, `virtual elapsed ${out.elapsedMs}`)
    assert.ok(wallMs < 20_000, `wall ${wallMs}`)
  })

  it('TokenBucket paces takers on the virtual clock', async () => {
    const times = await onVirtualTime(async clock => {
      const bucket = new TokenBucket({ rate: 1000, burst: 1000, clock })
      const at: number[] = []
      for (let i = 0; i < 4; i++) {
        await bucket.take(1000)
        at.push(clock.now())
      }
      return at
    })
    // the full bucket lets the first through at once, then one per second
    assert.deepEqual(times.map(t => Math.round(t / 100) * 100), [0, 1000, 2000, 3000])
  })
})

describe('EventQueue', () => {
  it('pops in time order, ties in insertion order, and removes cancelled events', () => {
    const q = new EventQueue()
    const seen: string[] = []
    const evs = [q.push(5, () => seen.push('a')), q.push(1, () => seen.push('b')), q.push(5, () => seen.push('c')), q.push(3, () => seen.push('d'))]
    q.remove(evs[3]!)
    q.remove(evs[3]!)
    for (let i = 0; i < 200; i++) q.remove(q.push(i % 7, () => seen.push('x')))
    let ev
    while ((ev = q.pop()) !== undefined) ev.fn()
    assert.deepEqual(seen, ['b', 'a', 'c'])
  })

  it('keeps the order of one time while most of its events are removed (compaction)', () => {
    const q = new EventQueue()
    const seen: number[] = []
    for (let i = 0; i < 1_000; i++) {
      const ev = q.push(2, () => seen.push(i))
      if (i % 10 !== 0) q.remove(ev)
    }
    q.push(1, () => seen.push(-1))
    assert.equal(q.size, 101)
    let ev
    while ((ev = q.pop()) !== undefined) {
      ev.fn()
      // events scheduled while a time runs join its end, as on a clock
      if (seen.length === 50) q.push(2, () => seen.push(1_000))
    }
    assert.deepEqual(seen, [-1, ...Array.from({ length: 100 }, (_, k) => k * 10), 1_000])
  })
})

describe('busy back-off on virtual time', () => {
  it('doubles the wait after each busy answer in a row, up to its cap', async () => {
    const asked: number[] = []
    const data = new Uint8Array(16)
    await onVirtualTime(async clock => {
      const have = new Bitfield(1)
      const session = new SwarmSession({
        transport: {
          requestChunk: async () => {
            asked.push(clock.now())
            if (asked.length <= 4) throw new PeerBusyError('a')
            return data
          }
        },
        sink: { have, verify: () => true, write: async () => { have.set(0) } },
        chunkSize: data.length,
        busyBackoffMs: 100,
        maxBusyBackoffMs: 300,
        clock
      })
      const full = new Bitfield(1)
      full.setAll()
      session.addPeer('a', full)
      await session.run({ signal: AbortSignal.timeout(20_000) })
    })
    const gaps = asked.slice(1).map((t, i) => Math.round(t - asked[i]!))
    assert.deepEqual(gaps, [100, 200, 300, 300])
  })
})
