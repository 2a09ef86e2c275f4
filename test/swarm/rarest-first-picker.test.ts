import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Availability } from '../../src/swarm/availability.js'
import { RarestFirstPicker } from '../../src/swarm/rarest-first-picker.js'
import { Bitfield } from '../../src/util/bitfield.js'

function full (n: number): Bitfield {
  const b = new Bitfield(n)
  b.setAll()
  return b
}

/** A picker whose chunk i is held by counts[i] peers (a full-holding peer 'all' included). */
function withCounts (counts: number[], init: { randomFirst?: number, maxRequestersPerChunk?: number } = {}): { picker: RarestFirstPicker, availability: Availability } {
  const picker = new RarestFirstPicker({ size: counts.length, randomFirst: init.randomFirst ?? 0, maxRequestersPerChunk: init.maxRequestersPerChunk })
  const availability = new Availability(counts.length, picker)
  const max = Math.max(...counts)
  for (let p = 0; p < max; p++) {
    availability.peerHave(`p${p}`, counts.flatMap((c, i) => c > p ? [i] : []))
  }
  return { picker, availability }
}

describe('RarestFirstPicker', () => {
  it('picks the rarest chunks the peer has first', () => {
    const counts = [5, 3, 1, 4, 2, 5, 1, 3]
    const { picker } = withCounts(counts)
    const picks = picker.pick(full(8), 8, 'x')
    assert.deepEqual(picks.map(i => counts[i]), [1, 1, 2, 3, 3, 4, 5, 5])
    assert.equal(picker.inFlight, 8)
    assert.equal(picker.endgame, true, 'every missing chunk is in flight')
    assert.equal(picker.pick(full(8), 8, 'y').length, 8, 'endgame: one duplicate of each')
    assert.deepEqual(picker.pick(full(8), 8, 'z'), [], 'duplicates capped at 2 requesters')
  })

  it('only picks chunks the peer has and we miss', () => {
    const counts = [1, 1, 2, 2, 3, 3]
    const { picker } = withCounts(counts)
    picker.markHave(0)
    const peerHas = new Bitfield(6)
    for (const i of [0, 3, 4]) peerHas.set(i)
    assert.deepEqual(picker.pick(peerHas, 5, 'x'), [3, 4])
  })

  it('follows availability changes', () => {
    const counts = [1, 1, 1, 1]
    const { picker, availability } = withCounts(counts)
    availability.peerHave('q1', [0, 1, 2])
    availability.peerHave('q2', [0, 1])
    availability.peerHave('q3', [0])
    assert.deepEqual(picker.pick(full(4), 4, 'x'), [3, 2, 1, 0])
    picker.abandon(0, 'x'); picker.abandon(1, 'x'); picker.abandon(2, 'x'); picker.abandon(3, 'x')
    availability.removePeer('q1')
    availability.removePeer('q2')
    availability.removePeer('q3')
    availability.peerHave('q4', [1, 2, 3])
    assert.equal(picker.pick(full(4), 1, 'x')[0], 0)
  })

  it('breaks ties at random, uniformly', () => {
    const counts = [3, 1, 1, 1, 1, 2, 3, 1]
    const tied = [1, 2, 3, 4, 7]
    const hits = new Map<number, number>()
    const trials = 5000
    for (let t = 0; t < trials; t++) {
      const { picker } = withCounts(counts)
      const first = picker.pick(full(8), 1, 'x')[0]!
      hits.set(first, (hits.get(first) ?? 0) + 1)
    }
    assert.deepEqual([...hits.keys()].sort(), tied)
    for (const i of tied) {
      const share = hits.get(i)! / trials
      assert.ok(share > 0.15 && share < 0.25, `chunk ${i} picked first ${(share * 100).toFixed(1)}% of the time, expected ~20%`)
    }
  })

  it('picks the first chunks at random, then rarest-first', () => {
    const n = 100
    // Chunk 0 is the rarest by far; random-first picks ignore it most of the time.
    const counts = Array.from({ length: n }, (_, i) => i === 0 ? 1 : 5)
    let rarestFirstCount = 0
    const trials = 200
    for (let t = 0; t < trials; t++) {
      const { picker } = withCounts(counts, { randomFirst: 4 })
      const picks = picker.pick(full(n), 4, 'x')
      assert.equal(new Set(picks).size, 4)
      if (picks.includes(0)) rarestFirstCount++
    }
    assert.ok(rarestFirstCount < trials / 2, `random-first should rarely pick the rarest chunk, did ${rarestFirstCount}/${trials}`)
    const { picker } = withCounts(counts, { randomFirst: 4 })
    for (const i of picker.pick(full(n), 4, 'x')) picker.markHave(i)
    if (picker.has(0)) return
    assert.deepEqual(picker.pick(full(n), 1, 'x'), [0], 'after 4 chunks are held, rarest-first applies')
  })

  it('enters endgame only when nothing is pickable and caps duplicates', () => {
    const { picker } = withCounts([2, 2, 2])
    assert.deepEqual(picker.pick(full(3), 2, 'a').length, 2)
    assert.equal(picker.endgame, false)
    const third = picker.pick(full(3), 5, 'b')
    // 'b' gets the last fresh chunk, then (endgame) duplicates of 'a's two.
    assert.equal(third.length, 3)
    assert.equal(picker.endgame, true)
    assert.deepEqual(picker.pick(full(3), 5, 'b'), [], 'never twice to the same peer')
    const c = picker.pick(full(3), 5, 'c')
    assert.equal(c.length, 1, 'only the chunk with one requester is left under the cap of 2')
    for (let i = 0; i < 3; i++) assert.ok(picker.requesters(i).length <= 2)
    assert.deepEqual(picker.pick(full(3), 5, 'd'), [])
    const [first] = third
    const losers = picker.markHave(first!)
    assert.equal(losers.length, 2)
    assert.equal(picker.requesters(first!).length, 0)
  })

  it('with maxRequestersPerChunk 1 never duplicates', () => {
    const { picker } = withCounts([1, 1], { maxRequestersPerChunk: 1 })
    assert.equal(picker.pick(full(2), 5, 'a').length, 2)
    assert.deepEqual(picker.pick(full(2), 5, 'b'), [])
  })

  it('abandoned chunks become pickable again once no requester is left', () => {
    const { picker } = withCounts([1, 1])
    const a = picker.pick(full(2), 2, 'a')
    picker.pick(full(2), 2, 'b')
    picker.abandon(a[0]!, 'a')
    assert.equal(picker.pickable, 0, 'b still has it in flight')
    picker.abandon(a[0]!, 'b')
    assert.equal(picker.pickable, 1)
    assert.deepEqual(picker.pick(full(2), 1, 'c'), [a[0]])
  })

  it('prioritize(): those chunks first, in the order given, before random-first and rarest-first', () => {
    // chunk 0 is the rarest; 5, 9 and 2 are asked for by a reader
    const { picker } = withCounts([1, 3, 3, 3, 3, 3, 3, 3, 3, 3], { randomFirst: 4 })
    picker.prioritize([5, 9, 2, 42, -1])
    const peer = full(10)
    assert.deepEqual(picker.pick(peer, 2, 'a'), [5, 9])
    const onlyTwo = new Bitfield(10)
    onlyTwo.set(2)
    onlyTwo.set(0)
    assert.deepEqual(picker.pick(onlyTwo, 1, 'b'), [2], 'a prioritized chunk before the rarest one')
    // in flight: not picked twice; abandoned: first again; held: dropped from the list
    picker.abandon(9, 'a')
    assert.deepEqual(picker.pick(peer, 1, 'c'), [9])
    picker.markHave(5)
    picker.prioritize([5])
    assert.ok(!picker.pick(peer, 10, 'd').includes(5), 'a held chunk is never picked')
  })

  it('simulates 10,000 chunks x 1,000 peers (timing printed)', () => {
    const chunks = 10_000
    const peers = 1_000
    const picker = new RarestFirstPicker({ size: chunks })
    const availability = new Availability(chunks, picker)
    const fields: Bitfield[] = []
    let t0 = performance.now()
    for (let p = 0; p < peers; p++) {
      // Peers hold a random 0-60% of the chunks; a few are seeders.
      const share = p < 10 ? 1 : Math.random() * 0.6
      const field = new Bitfield(chunks)
      for (let i = 0; i < chunks; i++) if (Math.random() < share) field.set(i)
      fields.push(field)
      availability.peerBitfield(`p${p}`, field)
    }
    const setupMs = performance.now() - t0
    let picks = 0
    let calls = 0
    t0 = performance.now()
    const inflight: Array<[number, string]> = []
    for (let round = 0; picker.missing > 0 && round < 100_000; round++) {
      const p = Math.floor(Math.random() * peers)
      const got = picker.pick(fields[p]!, 4, `p${p}`)
      calls++
      picks += got.length
      for (const i of got) inflight.push([i, `p${p}`])
      // Deliver the oldest requests (some of them duplicates in endgame).
      while (inflight.length > 64 || (got.length === 0 && inflight.length > 0)) {
        const [i] = inflight.shift()!
        for (const loser of picker.markHave(i)) void loser
        if (got.length === 0) break
      }
      if (round % 5 === 0) availability.peerHave(`p${Math.floor(Math.random() * peers)}`, [Math.floor(Math.random() * chunks)])
    }
    while (inflight.length > 0) picker.markHave(inflight.shift()![0])
    const pickMs = performance.now() - t0
    assert.equal(picker.missing, 0)
    console.log(`# picker sim: ${chunks} chunks x ${peers} peers: availability setup ${setupMs.toFixed(0)} ms; ${calls} pick calls (${picks} chunks) in ${pickMs.toFixed(0)} ms = ${(pickMs * 1000 / calls).toFixed(1)} us/call`)
  })
})
