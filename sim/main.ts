/**
 * `npm run sim -- [options]`: the discrete-event swarm simulator (docs/simulator.md). Real
 * SwarmSession, picker and seeder policies on a virtual clock and a simulated network.
 *
 *   npm run sim -- --peers 10000            flash crowd, 64 MiB, equal 20 Mbit/s hosts
 *   npm run sim -- --scaling                T_last at 100, 1,000 and 10,000 peers
 *   npm run sim -- --calibrate              the netns bench case next to its measured figure
 *   npm run sim -- --peers 1000 --corrupt 0.05
 */
import { spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CALIBRATION_MEASURED_T_LAST_S, CALIBRATION_START_MS, DEFAULT_SCENARIO, buildScenario, calibrationScenario } from './scenario.js'
import { formatDiagnostics, formatReport, simReport, uplinkShares } from './sim-report.js'
import { svgPlot } from './svg-plot.js'
import { SwarmSim } from './swarm-sim.js'
import type { Arrival, Capacity, ScenarioOptions } from './scenario.js'
import type { SimReport } from './sim-report.js'
import type { SeederPolicy, SimConfig } from './sim-config.js'
import type { Series } from './svg-plot.js'

// Sessions create an error object for every refusal, cancel and timeout; their stack traces are never
// read here and cost ~5% of a large run.
Error.stackTraceLimit = 0

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e']

function say (line = ''): void {
  process.stdout.write(line + '\n')
}

interface Run { label: string, sim: SwarmSim, report: SimReport }

let diagnostics = false

async function runOne (label: string, config: SimConfig): Promise<Run> {
  const t0 = performance.now()
  const sim = new SwarmSim(config)
  // a line per 5 virtual seconds on stderr: a 10,000-peer run takes minutes
  const tick = (): void => {
    process.stderr.write(`  t=${(sim.clock.now() / 1000).toFixed(0)} s: ${sim.unfinished} unfinished, ${((performance.now() - t0) / 1000).toFixed(0)} s wall\n`)
    if (sim.unfinished > 0) sim.clock.setTimeout(tick, 5_000)
  }
  sim.clock.setTimeout(tick, 5_000)
  await sim.run()
  const report = simReport(sim, (performance.now() - t0) / 1000)
  say(`== ${label}`)
  say(formatReport(report))
  if (diagnostics) say(formatDiagnostics(sim, report))
  return { label, sim, report }
}

function completionCdf (run: Run): Array<[number, number]> {
  const times = run.sim.nodes.filter(n => n.kind === 'honest' && n.doneAt !== Infinity).map(n => n.doneAt / 1000).sort((a, b) => a - b)
  const total = run.report.honest
  return [[0, 0], ...times.map((t, i): [number, number] => [t, (i + 1) / total])]
}

function originRate (run: Run, binS = 1): Array<[number, number]> {
  const bins: number[] = []
  for (const [ms, bytes] of run.sim.totals.originUploads) {
    const b = Math.floor(ms / 1000 / binS)
    bins[b] = (bins[b] ?? 0) + bytes
  }
  const out: Array<[number, number]> = []
  for (let b = 0; b < bins.length; b++) out.push([b * binS, (bins[b] ?? 0) / binS / 1e6])
  return out
}

async function writePlots (out: string, runs: Run[], name: string): Promise<void> {
  await mkdir(out, { recursive: true })
  const cdf: Series[] = runs.map((r, i) => ({ label: r.label, points: completionCdf(r), color: COLORS[i % COLORS.length]!, step: true }))
  const egress: Series[] = runs.map((r, i) => ({ label: r.label, points: originRate(r), color: COLORS[i % COLORS.length]! }))
  await writeFile(join(out, `${name}-completion.svg`), svgPlot({ title: 'Completion time CDF', xLabel: 'virtual time (s)', yLabel: 'share of honest peers done', series: cdf }))
  await writeFile(join(out, `${name}-origin-egress.svg`), svgPlot({ title: "Origin's upload rate", xLabel: 'virtual time (s)', yLabel: 'MB/s (1 s bins)', series: egress }))
  // the ramp after discovery and the fall-off at the end: where a swarm loses against T_min
  const uplinks: Series[] = runs.map((r, i) => ({ label: r.label, points: uplinkShares(r.sim, 1).map((share, s): [number, number] => [s, share * 100]), color: COLORS[i % COLORS.length]! }))
  await writeFile(join(out, `${name}-receiver-uplinks.svg`), svgPlot({ title: "Receivers' uplinks busy", xLabel: 'virtual time (s)', yLabel: '% of all receivers (1 s bins)', series: uplinks }))
  say(`plots: ${join(out, `${name}-completion.svg`)}, ${join(out, `${name}-origin-egress.svg`)}, ${join(out, `${name}-receiver-uplinks.svg`)}`)
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      peers: { type: 'string' },
      mib: { type: 'string' },
      'chunk-kib': { type: 'string' },
      mbit: { type: 'string' },
      arrival: { type: 'string' },
      'window-s': { type: 'string' },
      capacity: { type: 'string' },
      corrupt: { type: 'string' },
      'corrupt-relays': { type: 'string' },
      liars: { type: 'string' },
      stallers: { type: 'string' },
      policy: { type: 'string' },
      'latency-ms': { type: 'string' },
      loss: { type: 'string' },
      'discovery-ms': { type: 'string' },
      'gossip-tick-ms': { type: 'string' },
      'clock-ms': { type: 'string' },
      seed: { type: 'string' },
      uplink: { type: 'string' },
      'uplink-model': { type: 'string' },
      'send-buffer-kib': { type: 'string' },
      spread: { type: 'string' },
      slots: { type: 'string' },
      'have-flush-ms': { type: 'string' },
      'have-rare-ms': { type: 'string' },
      'idle-admit': { type: 'string' },
      'busy-uplink': { type: 'string' },
      reports: { type: 'string' },
      'have-leading': { type: 'string' },
      busy: { type: 'string', multiple: true },
      rare: { type: 'string', multiple: true },
      session: { type: 'string', multiple: true },
      slot: { type: 'string', multiple: true },
      origin: { type: 'string', multiple: true },
      out: { type: 'string', default: 'sim-out' },
      scaling: { type: 'boolean', default: false },
      calibrate: { type: 'boolean', default: false },
      diag: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false }
    }
  })
  if (values.help) {
    say('npm run sim -- [--peers N] [--mib 64] [--chunk-kib 256] [--mbit 20] [--arrival flash|staggered|churn] [--window-s 60]')
    say('  [--capacity equal|mixed] [--corrupt 0.05] [--corrupt-relays 0.375] [--liars 0] [--stallers 0] [--policy first-copy|none]')
    say('  [--latency-ms 25] [--loss 0.01] [--discovery-ms 1500] [--gossip-tick-ms 50] [--clock-ms 1] [--seed 1] [--uplink fifo|rarest] [--spread 2] [--have-flush-ms 250] [--have-rare-ms 100] [--slots 8]')
    say('  [--uplink-model fifo|conn] [--send-buffer-kib 1024] (conn: per-stream queues and send buffers, as the xfer server)')
    say('  [--idle-admit on|off] [--busy-uplink on|off] [--reports on|off] [--have-leading on|off] [--busy backlog=3 ...] [--rare holders=2 backlog=3] (production rules, off: the old ones)')
    say('  [--session targetQueueMs=1000 ...] [--slot maxHoldMs=30000 ...] [--origin graceMs=10000 ...] [--out sim-out] [--scaling] [--calibrate] [--diag]')
    return
  }
  const num = (v: string | undefined, d: number): number => {
    if (v === undefined) return d
    const n = Number(v)
    if (!Number.isFinite(n) || n < 0) throw new Error(`not a number >= 0: ${v}`)
    return n
  }
  const overrides = (flag: string, list: string[] | undefined): Record<string, number> => Object.fromEntries((list ?? []).map(kv => {
    const [k, v] = kv.split('=')
    if (k === undefined || v === undefined) throw new Error(`--${flag} name=value, not ${kv}`)
    return [k, num(v, 0)]
  }))
  const o: ScenarioOptions = {
    ...DEFAULT_SCENARIO,
    peers: Math.round(num(values.peers, DEFAULT_SCENARIO.peers)),
    contentMiB: num(values.mib, DEFAULT_SCENARIO.contentMiB),
    chunkKiB: num(values['chunk-kib'], DEFAULT_SCENARIO.chunkKiB),
    rate: values.mbit === undefined ? DEFAULT_SCENARIO.rate : num(values.mbit, 20) * 125_000 * 1448 / 1514,
    arrival: (values.arrival ?? DEFAULT_SCENARIO.arrival) as Arrival,
    windowMs: num(values['window-s'], DEFAULT_SCENARIO.windowMs / 1000) * 1000,
    capacity: (values.capacity ?? DEFAULT_SCENARIO.capacity) as Capacity,
    corrupt: num(values.corrupt, 0),
    relays: num(values['corrupt-relays'], 0),
    liars: num(values.liars, 0),
    stallers: num(values.stallers, 0),
    policy: (values.policy ?? DEFAULT_SCENARIO.policy) as SeederPolicy,
    latencyMs: num(values['latency-ms'], DEFAULT_SCENARIO.latencyMs),
    gossipLoss: num(values.loss, DEFAULT_SCENARIO.gossipLoss),
    discoveryMs: num(values['discovery-ms'], DEFAULT_SCENARIO.discoveryMs),
    gossipTickMs: Math.max(1, num(values['gossip-tick-ms'], DEFAULT_SCENARIO.gossipTickMs)),
    clockResolutionMs: num(values['clock-ms'], DEFAULT_SCENARIO.clockResolutionMs),
    uplinkOrder: (values.uplink ?? 'fifo') as 'fifo' | 'rarest',
    uplinkModel: (values['uplink-model'] ?? 'fifo') as 'fifo' | 'conn',
    sendBufferBytes: values['send-buffer-kib'] === undefined ? undefined : num(values['send-buffer-kib'], 1024) * 1024,
    uploadSlots: values.slots === undefined ? undefined : Math.max(1, Math.round(num(values.slots, 8))),
    firstCopySpread: values.spread === undefined ? undefined : num(values.spread, 2),
    haveFlushMs: values['have-flush-ms'] === undefined ? undefined : num(values['have-flush-ms'], 500),
    haveRareMs: values['have-rare-ms'] === undefined ? undefined : num(values['have-rare-ms'], 100),
    idleAdmit: values['idle-admit'] === undefined ? undefined : values['idle-admit'] !== 'off',
    busyUplink: values['busy-uplink'] === undefined ? undefined : values['busy-uplink'] !== 'off',
    reports: values.reports === undefined ? undefined : values.reports !== 'off',
    haveLeading: values['have-leading'] === undefined ? undefined : values['have-leading'] !== 'off',
    busyOverrides: overrides('busy', values.busy),
    rareOverrides: overrides('rare', values.rare),
    sessionOverrides: overrides('session', values.session),
    slotOverrides: overrides('slot', values.slot),
    originOverrides: overrides('origin', values.origin),
    seed: Math.round(num(values.seed, DEFAULT_SCENARIO.seed))
  }
  if (!['flash', 'staggered', 'churn'].includes(o.arrival)) throw new Error(`--arrival: flash, staggered or churn, not ${o.arrival}`)
  if (!['equal', 'mixed'].includes(o.capacity)) throw new Error(`--capacity: equal or mixed, not ${o.capacity}`)
  if (!['fifo', 'rarest'].includes(o.uplinkOrder)) throw new Error(`--uplink: fifo or rarest, not ${o.uplinkOrder}`)
  if (!['fifo', 'conn'].includes(o.uplinkModel!)) throw new Error(`--uplink-model: fifo or conn, not ${o.uplinkModel}`)
  if (o.uplinkModel === 'conn' && o.uplinkOrder === 'rarest') throw new Error('--uplink rarest needs --uplink-model fifo')
  if (values.policy === 'super-seed') throw new Error('--policy super-seed was removed in session 22 with --super-seed: first-copy is the one origin policy (docs/decisions.md); use --policy first-copy or none')
  if (!['first-copy', 'none'].includes(o.policy)) throw new Error(`--policy: first-copy or none, not ${o.policy}`)
  const out = values.out
  diagnostics = values.diag

  if (values.calibrate) {
    const run = await runOne('calibration: 1 seeder + 8 receivers, 20 Mbit/s, 32 MiB, 256 KiB', calibrationScenario(o.seed, o.policy, o))
    const [lo, hi] = CALIBRATION_MEASURED_T_LAST_S
    const mid = (lo + hi) / 2
    say(`receivers start ${CALIBRATION_START_MS[0] / 1000}-${CALIBRATION_START_MS[1] / 1000} s after spawn (measured start-up, an input)`)
    say(`T_last simulated ${run.report.tLastS.toFixed(1)} s, measured ${lo}-${hi} s: ${((run.report.tLastS / mid - 1) * 100).toFixed(1)}% from the middle`)
    await writePlots(out, [run], 'calibration')
    return
  }
  if (values.scaling) {
    const runs: Run[] = []
    for (const n of [100, 1_000, 10_000]) runs.push(await runOne(`N=${n}`, buildScenario({ ...o, peers: n })))
    const base = runs[0]!.report.tLastS
    say('== scaling')
    for (const r of runs) say(`${r.label}: T_last ${r.report.tLastS.toFixed(1)} s = ${(r.report.tLastS / base).toFixed(2)} x T_last(100), efficiency ${r.report.efficiency.toFixed(3)}`)
    await writePlots(out, runs, 'scaling')
    return
  }
  const run = await runOne(`${o.arrival} crowd of ${o.peers} peers, ${o.contentMiB} MiB, ${o.chunkKiB} KiB chunks, ${o.capacity} capacities, ${o.policy}`, buildScenario(o))
  await writePlots(out, [run], `n${o.peers}`)
}

/**
 * Young generation per semi-space, MB. A session's requests, promises and timers live for virtual
 * milliseconds to seconds, which at 10,000 peers is seconds of real time: with V8's default young
 * generation they survive two scavenges and are promoted, and the old space collects them. A large
 * one lets most die young (1,000 peers: ~40 s -> ~37 s of CPU). Costs ~0.5 GB of RSS.
 */
const SEMI_SPACE_MB = 256

/** Runs this script again in a node with the larger young generation, unless it is one or was told not to (SHOAL_SIM_SEMI_SPACE=0). */
function rerunWithLargerYoungGeneration (): boolean {
  if (process.env.SHOAL_SIM_SEMI_SPACE === '0' || process.execArgv.some(a => a.startsWith('--max-semi-space-size'))) return false
  const child = spawnSync(process.execPath, [`--max-semi-space-size=${SEMI_SPACE_MB}`, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' })
  process.exitCode = child.status ?? 1
  return true
}

if (!rerunWithLargerYoungGeneration()) {
  main().catch(err => {
    process.stderr.write(`sim: ${(err as Error).message}\n`)
    process.exitCode = 1
  })
}
