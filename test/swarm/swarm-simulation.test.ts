import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SwarmSession } from '../../src/swarm/swarm-session.js'
import { Content, MemorySink, SimNetwork } from './simulator.js'

interface Result { ms: number, seederRatio: number, receiverUploads: number[] }

/**
 * One seeder and `receivers` sessions trading in memory: every receiver's sink is also a virtual
 * peer for the others, HAVEs are "gossiped" by calling peerHave on every other session, and every
 * node's uplink is rate-limited by the simulator.
 */
async function simulate (opts: { chunks: number, chunkSize: number, receivers: number, uplink: number }): Promise<Result> {
  const content = new Content(opts.chunks, opts.chunkSize)
  const net = new SimNetwork()
  const seed = net.add('seed', { has: content.full(), data: i => content.chunks[i], bytesPerSecond: opts.uplink })
  const ids = Array.from({ length: opts.receivers }, (_, i) => `r${i}`)
  const sinks = ids.map(() => new MemorySink(content))
  const sessions = ids.map((id, i) => new SwarmSession({ transport: net.transport(id), sink: sinks[i]!, chunkSize: opts.chunkSize, busyBackoffMs: 50 }))
  ids.forEach((id, i) => net.add(id, { has: sinks[i]!.have, data: index => sinks[i]!.data[index], bytesPerSecond: opts.uplink }))

  sessions.forEach((session, i) => {
    for (const other of ids) if (other !== ids[i]) session.addPeer(other)
    session.peerBitfield('seed', content.full())
    session.addEventListener('chunk', e => {
      sessions.forEach((s, j) => { if (j !== i) s.peerHave(ids[i]!, [e.detail.index]) })
    })
  })
  const controller = new AbortController()
  const deadline = setTimeout(() => controller.abort(), 60_000)
  const t0 = performance.now()
  try {
    await Promise.all(sessions.map(s => s.run({ signal: controller.signal })))
  } finally {
    clearTimeout(deadline)
  }
  const ms = performance.now() - t0
  for (const sink of sinks) {
    assert.equal(sink.have.complete, true)
    for (let i = 0; i < opts.chunks; i++) assert.equal(sink.writes[i], 1)
  }
  return { ms, seederRatio: seed.uploadedBytes / content.bytes, receiverUploads: ids.map(id => net.peers.get(id)!.uploadedBytes / content.bytes) }
}

describe('simulated swarm: 1 seeder + N receivers trading in memory', () => {
  it('finishes, every chunk written once by every receiver (seeder upload ratio printed)', async () => {
    const opts = { chunks: 48, chunkSize: 16 * 1024, receivers: 8, uplink: 768 * 1024 }
    const r = await simulate(opts)
    const F = opts.chunks * opts.chunkSize
    const tMin = Math.max(F / opts.uplink, opts.receivers * F / (opts.uplink * (opts.receivers + 1))) * 1000
    console.log(`# ${opts.receivers} receivers x ${F / 1024} KiB, uplinks ${opts.uplink / 1024} KiB/s: ` +
      `done in ${r.ms.toFixed(0)} ms (T_min ${tMin.toFixed(0)} ms, efficiency ${(tMin / r.ms).toFixed(2)}), ` +
      `seeder upload ratio ${r.seederRatio.toFixed(2)}, receiver ratios ${r.receiverUploads.map(x => x.toFixed(2)).join(' ')}`)
  })
})
