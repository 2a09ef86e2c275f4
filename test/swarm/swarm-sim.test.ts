import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DEFAULT_SCENARIO, buildScenario, calibrationScenario } from '../../sim/scenario.js'
import { simReport } from '../../sim/sim-report.js'
import { SwarmSim } from '../../sim/swarm-sim.js'
import type { ScenarioOptions } from '../../sim/scenario.js'

async function simulate (o: Partial<ScenarioOptions>): Promise<SwarmSim> {
  const config = buildScenario({ ...DEFAULT_SCENARIO, contentMiB: 4, ...o })
  config.untilMs = 600_000
  const sim = new SwarmSim(config)
  await sim.run()
  return sim
}

describe('swarm simulator (real sessions on virtual time)', () => {
  it('20 peers in a flash crowd: every peer holds every chunk, each written once', async () => {
    const sim = await simulate({ peers: 20 })
    const r = simReport(sim, 0)
    console.log(`# 20 peers x 4 MiB: T_last ${r.tLastS.toFixed(1)} s, efficiency ${r.efficiency.toFixed(2)}, origin egress ${r.originEgress.toFixed(2)}`)
    const receivers = sim.nodes.filter(n => n.kind === 'honest')
    assert.equal(receivers.length, 20)
    for (const n of receivers) {
      assert.equal(n.have.complete, true, `${n.id} incomplete`)
      assert.deepEqual([...new Set(n.writes)], [1], `${n.id} wrote a chunk other than once`)
    }
    assert.equal(sim.banned.size, 0)
    // the origin sent every chunk at least once and the swarm carried most of the rest
    assert.ok(r.originEgress >= 1 && r.originEgress < 5, `origin egress ${r.originEgress}`)
  })

  it('--diag figures: every chunk spreads to all receivers in order, and the uplink time is the bytes uploaded', async () => {
    const sim = await simulate({ peers: 20 })
    const last = sim.spreadAt.length - 1
    for (let i = 0; i < sim.config.chunks; i++) {
      // each share is reached no sooner than the one before; every chunk reached every receiver
      for (let s = 1; s <= last; s++) assert.ok(sim.spreadAt[s]![i]! >= sim.spreadAt[s - 1]![i]!, `chunk ${i}, share ${s}`)
      assert.ok(Number.isFinite(sim.spreadAt[last]![i]!), `chunk ${i} never reached every receiver`)
      // a first copy cannot come before the origin sent the chunk for the first time
      assert.ok(sim.spreadAt[0]![i]! >= sim.totals.originFirstSent[i]!, `chunk ${i} copied before it left the origin`)
    }
    const receivers = sim.nodes.filter(n => n !== sim.origin)
    const uploadedMs = receivers.reduce((ms, n) => ms + n.uploadedBytes * 1000 / n.up, 0)
    const busyMs = sim.receiverUplinkMs.reduce((a, b) => a + (b ?? 0), 0)
    assert.ok(Math.abs(busyMs - uploadedMs) < 1, `uplink time ${busyMs} ms against ${uploadedMs} ms of uploads`)
    assert.ok(busyMs > 0)
  })

  it('with corrupting peers the honest ones finish and every corrupter is banned', async () => {
    const sim = await simulate({ peers: 40, corrupt: 0.1, seed: 3 })
    const corrupt = sim.nodes.filter(n => n.kind === 'corrupt')
    assert.equal(corrupt.length, 4)
    for (const n of sim.nodes.filter(n => n.kind === 'honest')) {
      assert.equal(n.have.complete, true, `${n.id} incomplete`)
      assert.deepEqual([...new Set(n.writes)], [1])
    }
    // a corrupter connected to nobody could not be banned; here each has neighbours that asked it
    for (const n of corrupt) assert.equal(sim.banned.has(n.id), true, `${n.id} not banned`)
    for (const id of sim.banned) assert.equal(sim.nodes.find(n => n.id === id)?.kind, 'corrupt', `honest ${id} banned`)
  })

  it('liars and stallers slow the swarm down but every honest peer finishes', async () => {
    const sim = await simulate({ peers: 30, liars: 0.1, stallers: 0.1, seed: 5 })
    for (const n of sim.nodes.filter(n => n.kind === 'honest')) assert.equal(n.have.complete, true, `${n.id} incomplete`)
  })

  it('per-connection queues and send buffers: streams write ahead up to the buffer, peers that leave mid-run are survived', async () => {
    const chunk = DEFAULT_SCENARIO.chunkKiB * 1024
    const sim = await simulate({ peers: 30, arrival: 'churn', windowMs: 5_000, uplinkModel: 'conn', sendBufferBytes: 2 * chunk, seed: 2 })
    const r = simReport(sim, 0)
    console.log(`# 30 peers, churn, conn model: T_last ${r.tLastS.toFixed(1)} s, origin egress ${r.originEgress.toFixed(2)}, late bytes ${sim.lateBytes}`)
    for (const n of sim.nodes.filter(n => n.kind === 'honest' && n.departedAt === Infinity)) {
      assert.equal(n.have.complete, true, `${n.id} incomplete`)
      assert.deepEqual([...new Set(n.writes)], [1], `${n.id} wrote a chunk other than once`)
    }
    // a stream writes its next body while at most the buffer's depth is queued: never more than one chunk past it
    const peak = Math.max(...sim.nodes.map(n => n.peakSendBuffer))
    assert.ok(peak > chunk && peak <= 3 * chunk, `peak send buffer ${peak} bytes`)
  })

  it('the calibration scenario runs (its figure is printed, not asserted)', async () => {
    const sim = new SwarmSim(calibrationScenario())
    await sim.run()
    const r = simReport(sim, 0)
    console.log(`# calibration: T_last ${r.tLastS.toFixed(1)} s (bench measured 23-26 s)`)
    assert.equal(r.finished, 8)
  })
})
