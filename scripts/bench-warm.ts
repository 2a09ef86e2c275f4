/**
 * Warm (fleet) mode of the swarm benchmark: as agents in a fleet are, every node is a `shoal daemon`
 * already up and connected before t0. At t0 the file is added on the origin daemon through its
 * control API, then every receiver daemon is told to fetch the CID through its own API. Each API
 * listens on loopback inside its host's namespace; a fleet agent (scripts/lib/fleet-agent.ts) in
 * each host relays the calls.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import type { NetnsTestbed } from './lib/netns-hosts.js'
import { processCpuMs, sha256File } from './lib/http-baseline.js'
import { ShoalProcess } from './lib/shoal-process.js'
import { NodeTrace, TRACE_ENV, traceFigures } from './lib/run-diagnostics.js'
import { keepTrace, withTraceDebug } from './lib/trace-dir.js'
import { BOOTSTRAP_HOST, cpuProfEnv, keepDebugLog, PORT, SEEDER_HOST, START_TIMEOUT_MS, traceEnv } from './bench-swarm.js'
import type { SwarmBenchConfig, SwarmRun } from './bench-swarm.js'

const AGENT_SCRIPT = fileURLToPath(new URL('./lib/fleet-agent.js', import.meta.url))
/** Inside each host's own namespace, so every daemon can use the same loopback address. */
const API_ADDRESS = '127.0.0.1:7070'
/**
 * After the last daemon is up: time for DHT self-queries and gossip joins, so t0 finds a connected
 * fleet. SHOAL_BENCH_SETTLE_S overrides it (seconds).
 */
const FLEET_SETTLE_MS = settleMs(process.env.SHOAL_BENCH_SETTLE_S)

function settleMs (text: string | undefined): number {
  if (text === undefined) return 5_000
  const s = Number(text)
  if (!Number.isFinite(s) || s < 1) throw new Error(`SHOAL_BENCH_SETTLE_S must be a number of seconds >= 1, got "${text}"`)
  return s * 1000
}

/** One warm run; the same figures as a cold one, t0 = the add on the origin. */
export async function runWarmOnce (bed: NetnsTestbed, dir: string, file: string, sha: string, cfg: SwarmBenchConfig, uploadRate: number): Promise<SwarmRun> {
  const runDir = await mkdtemp(join(dir, 'warm-'))
  const procs: ShoalProcess[] = []
  const common = (host: number, name: string): string[] => ['--json', '--data-dir', join(runDir, name), '--listen', `/ip4/${bed.ip(host)}/tcp/${PORT}`]
  try {
    const boot = ShoalProcess.inHost(bed, BOOTSTRAP_HOST, 'bootstrap', ['bootstrap', ...common(BOOTSTRAP_HOST, 'bootstrap')])
    procs.push(boot)
    const bootAddr = String(((await boot.waitFor('result', START_TIMEOUT_MS)).event.multiaddrs as string[])[0])
    const hosts = Array.from({ length: cfg.receivers + 1 }, (_, i) => SEEDER_HOST + i)
    const names = hosts.map(h => h === SEEDER_HOST ? 'origin' : `r${h - SEEDER_HOST - 1}`)
    const debug = process.env.SHOAL_BENCH_DEBUG
    const daemons = hosts.map((host, i) => {
      const args = ['daemon', ...common(host, names[i]!), '--bootstrap', bootAddr, '--api', API_ADDRESS, '--allow-paths', `${runDir},${dirname(file)}`]
      if (host === SEEDER_HOST && cfg.chunkSize !== undefined) args.push('--chunk-size', cfg.chunkSize)
      const p = ShoalProcess.inHost(bed, host, host === SEEDER_HOST ? 'origin daemon' : `receiver daemon ${i}`, args, { ...withTraceDebug(i === 1 ? traceEnv(debug) : TRACE_ENV), ...(i === 0 ? cpuProfEnv('seeder') : i === 1 ? cpuProfEnv('receiver 1') : {}) })
      keepTrace(p, runDir.slice(runDir.lastIndexOf('/') + 1), host === SEEDER_HOST ? 'seeder' : `receiver${i}`)
      procs.push(p)
      return { p, trace: NodeTrace.of(p) }
    })
    await Promise.all(daemons.map(async d => await d.p.waitFor('result', START_TIMEOUT_MS)))
    const agents = hosts.map((host, i) => {
      const child = bed.spawn(host, process.execPath, [AGENT_SCRIPT, '--api', API_ADDRESS, '--data-dir', join(runDir, names[i]!)], undefined, { stdio: ['pipe', 'pipe', 'pipe'] })
      const agent = new ShoalProcess(child, `fleet agent on h${host}`)
      procs.push(agent)
      return agent
    })
    await Promise.all(agents.map(async a => await a.waitFor('ready', START_TIMEOUT_MS)))
    const send = (a: ShoalProcess, cmd: Record<string, unknown>): void => { a.child.stdin?.write(JSON.stringify(cmd) + '\n') }
    const daemonProcs = [boot, ...daemons.map(d => d.p)]
    const cpuOf = async (): Promise<number> => (await Promise.all(daemonProcs.map(async p => await processCpuMs(p.child.pid!).catch(() => 0)))).reduce((a, b) => a + b, 0)
    const idle0 = await cpuOf()
    const idleStart = performance.now()
    await sleep(FLEET_SETTLE_MS)
    for (const a of agents) send(a, { op: 'status' })
    const peers = await Promise.all(agents.map(async a => Number((await a.waitFor('status', START_TIMEOUT_MS)).event.peers)))
    const cpu0 = await cpuOf()
    // what the fleet costs doing nothing (DHT refreshes, gossip heartbeats): the floor under the run's CPU
    const idlePercent = 100 * (cpu0 - idle0) / (performance.now() - idleStart)
    console.log(`\n(warm fleet: ${hosts.length} daemons + bootstrap up; connected peers per daemon at t0: ${Math.min(...peers)}-${Math.max(...peers)}; idle, they used ${idlePercent.toFixed(0)}% of one core in the ${FLEET_SETTLE_MS / 1000} s before t0)`)

    const outs = names.slice(1).map(name => join(runDir, `out-${name}`))
    await Promise.all(outs.map(async out => { await mkdir(out, { recursive: true }) }))
    const tx0 = await bed.txBytes(SEEDER_HOST)
    const startEpochMs = Date.now()
    const start = performance.now()
    if (debug !== undefined) keepDebugLog(daemons[1]!.p, () => start)
    const [origin, ...receivers] = agents
    send(origin!, { op: 'add', path: file })
    const added = (await origin!.waitFor('added', START_TIMEOUT_MS)).event
    receivers.forEach((a, r) => { send(a, { op: 'get', cid: String(added.cid), out: outs[r] }) })
    const done = await Promise.all(receivers.map(async a => (await a.waitFor('done', cfg.timeoutMs)).event))
    const wallMs = performance.now() - start
    const seederTxBytes = await bed.txBytes(SEEDER_HOST) - tx0
    const cpuMs = await cpuOf() - cpu0
    const hashes = await Promise.all(done.map(async e => await sha256File(String(e.path))))
    const finishMs = done.map(e => Number(e.at) - startEpochMs)
    const tLastMs = Math.max(...finishMs)
    const figures = traceFigures(daemons[0]!.trace, daemons.slice(1).map(d => d.trace), { startEpochMs, tLastMs, uploadRate, size: Number(added.size), chunks: Number(added.chunks) })
    const addMs = Number(added.at) - startEpochMs
    return {
      label: `swarm (warm: daemons up before t0, add took ${(addMs / 1000).toFixed(2)} s)`,
      warm: true,
      finishMs,
      fromNodeStartMs: finishMs,
      receivers: receivers.map((a, r) => ({
        nodeMs: NaN,
        manifestMs: (daemons[r + 1]!.trace.manifestAtEpochMs ?? NaN) - startEpochMs,
        firstChunkMs: Number(a.events.find(e => e.event.type === 'first')?.event.at ?? NaN) - startEpochMs,
        doneMs: finishMs[r]!,
        sentBytes: figures.sentBytes[r]!
      })),
      seeder: figures.seeder,
      seederTxBytes,
      cpuMs,
      wallMs,
      verified: hashes.every(h => h === sha)
    }
  } finally {
    await Promise.all(procs.map(async p => { await p.stop() }))
    await rm(runDir, { recursive: true, force: true })
  }
}
