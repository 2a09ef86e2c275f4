/**
 * Swarm benchmark in network namespaces: 1 bootstrap host, 1 seeder, N receivers, each a real
 * `shoal` process in its own namespace with tc tbf caps both ways (cold: processes started for the
 * run; warm: daemons already up, see bench-warm.ts); then the BitTorrent (aria2c + opentracker) and
 * client-server (HTTP) baselines over the same hosts and caps. Prints, never asserts.
 */
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NetnsTestbed, netnsUnavailableReason } from './lib/netns-hosts.js'
import { processCpuMs, runHttpBaseline, sha256File } from './lib/http-baseline.js'
import { cpus } from 'node:os'
import { ShoalProcess, writeRandomFile } from './lib/shoal-process.js'
import { btBaselineUnavailableReason, runBtBaseline } from './lib/bt-baseline.js'
import type { BtBaselineResult } from './lib/bt-baseline.js'
import { cpuPerGiB, NodeTrace, printDiagnostics, TRACE_ENV, traceFigures } from './lib/run-diagnostics.js'
import type { ReceiverTimes, SeederFigures } from './lib/run-diagnostics.js'
import { runWarmOnce } from './bench-warm.js'
import { keepTrace, withDebug, withTraceDebug } from './lib/trace-dir.js'

const MiB = 1024 * 1024
export const PORT = 4001
export const BOOTSTRAP_HOST = 0
export const SEEDER_HOST = 1
/** shoal's chunk size when SHOAL_BENCH_CHUNK is not set (DEFAULT_CHUNK_SIZE); the torrent's piece size follows it */
const DEFAULT_CHUNK_BYTES = 256 * 1024
/**
 * Payload share of the tbf line rate: tbf counts whole Ethernet frames, of which TCP carries 1448
 * bytes out of 1514 (MTU 1500, timestamps on); Noise and yamux framing take a further ~0.05%.
 */
export const GOODPUT = 1448 / 1514
export const START_TIMEOUT_MS = 30_000

export interface SwarmBenchConfig {
  receivers: number
  fileBytes: number
  rateMbit: number
  /** extra flags for every shoal node (e.g. ['--chunk-size', '256k']) */
  chunkSize?: string
  /** the run's bound */
  timeoutMs: number
  /** which variants to run: the cold run, the warm run, the baselines */
  cold: boolean
  warm: boolean
  bt: boolean
  http: boolean
  /** cold plain runs with this many receivers corrupting every chunk they serve (each compared with a clean run) */
  corrupt?: number[]
}

/** The environment that makes a receiver corrupt every chunk it serves (a test hook, see src/node/constants.ts). */
export const CORRUPT_ENV: NodeJS.ProcessEnv = { SHOAL_TEST_HOOKS: '1', SHOAL_TEST_HOOK_CORRUPT_UPLOADS: '1' }

/** What the corrupters of a run did and what the honest receivers made of it. */
export interface CorruptFigures {
  corrupters: number
  /** per honest receiver: the distinct corrupters it banned */
  bans: number[]
  /** per honest receiver: bans of an honest peer (must be 0) */
  wrongBans: number[]
  /** per corrupter: chunks it sent to honest receivers by T_last */
  servedToHonest: number[]
  /** the most chunks one corrupter sent one honest receiver */
  maxPerPair: number
}

export interface SwarmRun {
  label: string
  /** daemons up and connected before t0 (bench-warm.ts) */
  warm: boolean
  /** per receiver: ms from t0 (the gets spawned; warm: the add) to done, and from its own node start */
  finishMs: number[]
  fromNodeStartMs: number[]
  /** per receiver: node up, manifest, first verified chunk, done; ms from t0 */
  receivers: ReceiverTimes[]
  /** from the seeder's upload trace */
  seeder?: SeederFigures
  seederTxBytes: number
  verified: boolean
  /** CPU time of every shoal process during the download phase, ms */
  cpuMs: number
  /** the same per process kind (cold runs): the bootstrap, the seeder, each receiver (corrupters included) */
  cpuByKind?: CpuByKind
  wallMs: number
  /** set when some receivers corrupted what they served; the other figures are the honest receivers' */
  corrupt?: CorruptFigures
}

/** CPU-ms of a cold run per process kind, from the gets' spawn to the last receiver done. */
export interface CpuByKind {
  bootstrap: number
  seeder: number
  receivers: number[]
  /** per receiver: spawn to its node being up (its `node` line) */
  receiverStarts: number[]
}

/**
 * Node options of the bench nodes that SHOAL_BENCH_CPU_PROF asks for: a V8 CPU profile of the
 * seeder and receiver 1, written to that folder when each exits (profiling inflates CPU: read shares).
 */
export function cpuProfEnv (role: 'seeder' | 'receiver 1'): NodeJS.ProcessEnv {
  const dir = process.env.SHOAL_BENCH_CPU_PROF
  if (dir === undefined || dir === '') return {}
  const options = `--cpu-prof --cpu-prof-dir=${dir} --cpu-prof-name=${role.replace(' ', '')}-${Date.now()}.cpuprofile`
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${options}`.trim() }
}

export function fmtS (ms: number): string {
  return (ms / 1000).toFixed(2) + ' s'
}

/** Lower bound (Kumar & Ross) in seconds for rates in bytes/s. */
export function tMin (fileBytes: number, n: number, up: number, down: number, seederUp: number): number {
  return Math.max(fileBytes / seederUp, fileBytes / down, n * fileBytes / (seederUp + n * up))
}

/** Environment of a traced bench node; SHOAL_BENCH_DEBUG adds namespaces to receiver 1's. */
export function traceEnv (extraDebug?: string): NodeJS.ProcessEnv {
  return extraDebug === undefined ? TRACE_ENV : withDebug(TRACE_ENV, extraDebug)
}

/** Copies receiver 1's stderr (its DEBUG log), timestamped from t0, to $TMPDIR/shoal-bench-receiver1.log. */
export function keepDebugLog (p: ShoalProcess, t0: () => number): void {
  const log = createWriteStream(join(tmpdir(), 'shoal-bench-receiver1.log'))
  p.child.stderr?.on('data', (text: string) => { log.write(`${((performance.now() - t0()) / 1000).toFixed(3)} ${text}`) })
  p.child.once('exit', () => { log.end() })
}

async function runSwarmOnce (bed: NetnsTestbed, dir: string, file: string, sha: string, cfg: SwarmBenchConfig, uploadRate: number, corrupters = 0): Promise<SwarmRun> {
  const runDir = await mkdtemp(join(dir, 'plain-'))
  const procs: ShoalProcess[] = []
  const env = { SHOAL_SEED_TIME: 'inf' }
  const common = (host: number, name: string): string[] => ['--json', '--data-dir', join(runDir, name), '--listen', `/ip4/${bed.ip(host)}/tcp/${PORT}`]
  try {
    const boot = ShoalProcess.inHost(bed, BOOTSTRAP_HOST, 'bootstrap', ['bootstrap', ...common(BOOTSTRAP_HOST, 'bootstrap')], env)
    procs.push(boot)
    const bootAddr = String(((await boot.waitFor('result', START_TIMEOUT_MS)).event.multiaddrs as string[])[0])
    const seedArgs = ['seed', file, ...common(SEEDER_HOST, 'seeder'), '--bootstrap', bootAddr]
    if (cfg.chunkSize !== undefined) seedArgs.push('--chunk-size', cfg.chunkSize)
    const seeder = ShoalProcess.inHost(bed, SEEDER_HOST, 'seeder', seedArgs, { ...env, ...withTraceDebug(TRACE_ENV), ...cpuProfEnv('seeder') })
    const seederTrace = NodeTrace.of(seeder)
    const runName = `${runDir.slice(runDir.lastIndexOf('/') + 1)}${corrupters > 0 ? `-corrupt${corrupters}` : ''}`
    keepTrace(seeder, runName, 'seeder')
    procs.push(seeder)
    const added = (await seeder.waitFor('result', START_TIMEOUT_MS)).event
    const cid = String(added.cid)
    // let the seeder's provide and gossip join settle so every run starts from the same state
    await new Promise(resolve => setTimeout(resolve, 2_000))
    const cpuEach = async (list: ShoalProcess[]): Promise<number[]> => await Promise.all(list.map(async p => await processCpuMs(p.child.pid!).catch(() => 0)))
    const cpuOf = async (list: ShoalProcess[]): Promise<number> => (await cpuEach(list)).reduce((a, b) => a + b, 0)
    const cpu0 = await cpuOf(procs)
    const [boot0, seeder0] = await cpuEach([boot, seeder])
    const tx0 = await bed.txBytes(SEEDER_HOST)
    const outs = Array.from({ length: cfg.receivers }, (_, r) => join(runDir, `out-${r}`))
    await Promise.all(outs.map(async out => { await mkdir(out, { recursive: true }) }))
    const startEpochMs = Date.now()
    const start = performance.now()
    const receivers: ShoalProcess[] = []
    const traces: NodeTrace[] = []
    const bad: Array<{ p: ShoalProcess, trace: NodeTrace }> = []
    for (let r = 0; r < cfg.receivers; r++) {
      const host = SEEDER_HOST + 1 + r
      // the last hosts corrupt: same hosts and caps as a clean run, receiver 1 (the debug log) stays honest
      const corrupting = r >= cfg.receivers - corrupters
      const debug = r === 0 ? process.env.SHOAL_BENCH_DEBUG : undefined
      const p = ShoalProcess.inHost(bed, host, `${corrupting ? 'corrupter' : 'receiver'} ${r + 1}`, ['get', cid, ...common(host, `r${r}`), '-o', outs[r]!, '--seed-time', 'inf', '--bootstrap', bootAddr],
        { ...env, ...withTraceDebug(traceEnv(debug)), ...(corrupting ? CORRUPT_ENV : {}), ...(r === 0 ? cpuProfEnv('receiver 1') : {}) })
      const trace = NodeTrace.of(p)
      keepTrace(p, runName, `${corrupting ? 'corrupter' : 'receiver'}${r + 1}`)
      if (debug !== undefined) keepDebugLog(p, () => start)
      procs.push(p)
      if (corrupting) {
        bad.push({ p, trace })
        continue
      }
      traces.push(trace)
      receivers.push(p)
    }
    const all = [...receivers, ...bad.map(b => b.p)]
    const receiverStarts = Promise.all(all.map(async p => {
      await p.waitFor('node', START_TIMEOUT_MS)
      return await processCpuMs(p.child.pid!).catch(() => 0)
    }))
    const results = await Promise.all(receivers.map(async p => {
      const done = await p.waitFor('result', cfg.timeoutMs)
      const node = await p.waitFor('node', 1)
      return { at: done.at, nodeAt: node.at, path: String(done.event.path) }
    }))
    const wallMs = performance.now() - start
    const seederTxBytes = await bed.txBytes(SEEDER_HOST) - tx0
    const cpuMs = await cpuOf(procs) - cpu0
    const [boot1, seeder1, ...receivers1] = await cpuEach([boot, seeder, ...all])
    const cpuByKind: CpuByKind = { bootstrap: boot1! - boot0!, seeder: seeder1! - seeder0!, receivers: receivers1, receiverStarts: await receiverStarts }
    const hashes = await Promise.all(results.map(async r => await sha256File(r.path)))
    const finishMs = results.map(r => r.at - start)
    const tLastMs = Math.max(...finishMs)
    const figures = traceFigures(seederTrace, traces, { startEpochMs, tLastMs, uploadRate, size: Number(added.size), chunks: Number(added.chunks) })
    const corrupt = corrupters === 0 ? undefined : await corruptFigures(receivers, bad, startEpochMs + tLastMs)
    return {
      label: corrupters > 0 ? `swarm (cold), ${corrupters} of ${cfg.receivers} receivers corrupt every chunk they serve` : 'swarm (cold)',
      warm: false,
      finishMs,
      fromNodeStartMs: results.map(r => r.at - r.nodeAt),
      receivers: receivers.map((p, r) => ({
        nodeMs: results[r]!.nodeAt - start,
        manifestMs: (traces[r]!.manifestAtEpochMs ?? NaN) - startEpochMs,
        firstChunkMs: (p.events.find(e => e.event.type === 'progress' && Number(e.event.have) > 0)?.at ?? NaN) - start,
        doneMs: finishMs[r]!,
        sentBytes: figures.sentBytes[r]!
      })),
      seeder: figures.seeder,
      seederTxBytes,
      cpuMs,
      cpuByKind,
      wallMs,
      verified: hashes.every(h => h === sha),
      ...(corrupt === undefined ? {} : { corrupt })
    }
  } finally {
    await Promise.all(procs.map(async p => { await p.stop() }))
    await rm(runDir, { recursive: true, force: true })
  }
}

/** Bans the honest receivers printed (`banned` JSON events) and the chunks the corrupters' upload traces show sent to them. */
async function corruptFigures (honest: ShoalProcess[], bad: Array<{ p: ShoalProcess, trace: NodeTrace }>, untilEpochMs: number): Promise<CorruptFigures> {
  const idOf = async (p: ShoalProcess): Promise<string> => String((await p.waitFor('node', 1)).event.peerId)
  const honestIds = new Set(await Promise.all(honest.map(idOf)))
  const badIds = new Set(await Promise.all(bad.map(async b => await idOf(b.p))))
  const banned = honest.map(p => p.events.filter(e => e.event.type === 'banned').map(e => String(e.event.peer)))
  const perPair = new Map<string, number>()
  const servedToHonest = bad.map(({ trace }, k) => {
    let n = 0
    for (const u of trace.uploads) {
      if (u.atEpochMs > untilEpochMs || !honestIds.has(u.peer)) continue
      n++
      perPair.set(`${k} ${u.peer}`, (perPair.get(`${k} ${u.peer}`) ?? 0) + 1)
    }
    return n
  })
  return {
    corrupters: bad.length,
    bans: banned.map(list => new Set(list.filter(id => badIds.has(id))).size),
    wrongBans: banned.map(list => list.filter(id => !badIds.has(id)).length),
    servedToHonest,
    maxPerPair: Math.max(0, ...perPair.values())
  }
}

export function printSwarm (run: SwarmRun, cfg: SwarmBenchConfig, tMinS: number): void {
  const last = Math.max(...run.finishMs)
  const lastFromNode = Math.max(...run.fromNodeStartMs)
  const egress = run.seederTxBytes / cfg.fileBytes
  console.log(`\n${run.label}: ${cfg.receivers} receivers, ${cfg.fileBytes / MiB} MiB`)
  console.log(`  T_last: ${fmtS(last)}   efficiency T_min/T_last: ${(tMinS * 1000 / last).toFixed(2)} (goal >= ${run.warm ? '0.9' : '0.85'})` +
    (last === lastFromNode ? '' : `   [excluding process start-up: ${(tMinS * 1000 / lastFromNode).toFixed(2)}]`))
  // issue 11's goal, on wire bytes
  console.log(`  seeder egress: ${(run.seederTxBytes / MiB).toFixed(1)} MiB on the wire = ${egress.toFixed(2)} x F (goal <= 1.15; includes TCP/IP+Ethernet headers, ~1.05 x payload)`)
  console.log(`  CPU: the ${cfg.receivers + 2} shoal ${run.warm ? 'daemons' : 'processes'} used ${(run.cpuMs / 1000).toFixed(1)} CPU-s in ${fmtS(run.wallMs)} = ${(100 * run.cpuMs / run.wallMs / cpus().length).toFixed(0)}% of ${cpus().length} cores (${run.warm ? 'from the add on; the daemons were up before' : 'start-up included'})`)
  if (run.cpuByKind !== undefined) {
    const k = run.cpuByKind
    const s = (ms: number): string => (ms / 1000).toFixed(2)
    const range = (xs: number[]): string => `${s(Math.min(...xs))}-${s(Math.max(...xs))}`
    console.log(`  CPU-s by process: bootstrap ${s(k.bootstrap)}, seeder ${s(k.seeder)}, receivers ${s(k.receivers.reduce((a, b) => a + b, 0))} (each ${range(k.receivers)}, of which spawn to node up ${range(k.receiverStarts)})`)
  }
  console.log(`  every ${run.corrupt === undefined ? '' : 'honest '}receiver's sha256 equals the source: ${run.verified ? 'yes' : 'NO'}`)
  if (run.corrupt !== undefined) {
    const c = run.corrupt
    console.log(`  corrupters banned per honest receiver (of ${c.corrupters}): ${c.bans.join(', ')}; honest peers banned: ${c.wrongBans.reduce((a, b) => a + b, 0)}`)
    console.log(`  chunks each corrupter sent to honest receivers: ${c.servedToHonest.join(', ')}; most from one corrupter to one receiver: ${c.maxPerPair} (a chunk cancelled in flight may follow the bad one)`)
  }
  printDiagnostics(run.receivers, run.seeder, { cpuMs: run.cpuMs, deliveredBytes: cfg.receivers * cfg.fileBytes })
}

function printBt (bt: BtBaselineResult, cfg: SwarmBenchConfig, tMinS: number, pieceBytes: number): void {
  const last = Math.max(...bt.finishMs)
  console.log(`\nBitTorrent baseline (${bt.version} + opentracker, same hosts, caps and file; piece size ${pieceBytes / 1024} KiB = shoal's chunk size):`)
  console.log(`  T_last: ${fmtS(last)}   efficiency T_min/T_last: ${(tMinS * 1000 / last).toFixed(2)}   (first done ${fmtS(Math.min(...bt.finishMs))})`)
  console.log(`  seeder egress: ${(bt.seederTxBytes / MiB).toFixed(1)} MiB on the wire = ${(bt.seederTxBytes / cfg.fileBytes).toFixed(2)} x F`)
  console.log(`  CPU: the ${cfg.receivers + 1} aria2c processes used ${(bt.cpuMs / 1000).toFixed(1)} CPU-s in ${fmtS(bt.wallMs)} (${cpuPerGiB(bt.cpuMs, cfg.receivers * cfg.fileBytes).toFixed(1)} CPU-s per GiB delivered)`)
  console.log(`  every receiver's sha256 equals the source: ${bt.verified ? 'yes' : 'NO'}`)
}

function chunkBytes (text: string | undefined): number {
  if (text === undefined) return DEFAULT_CHUNK_BYTES
  const m = /^(\d+)([kKmM]?)$/.exec(text.trim())
  if (m === null) throw new Error(`SHOAL_BENCH_CHUNK=${text} is not a size like 256k or 1m`)
  return Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]!) ? 1024 : MiB)
}

/** Runs the namespace part; prints its figures. Returns false when skipped. */
export async function runSwarmBench (cfg: SwarmBenchConfig): Promise<boolean> {
  const reason = netnsUnavailableReason()
  if (reason !== undefined) {
    console.log(`\nswarm + baselines: skipped (${reason}; the namespace testbed needs root on Linux)`)
    return false
  }
  const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-swarm-'))
  let bed: NetnsTestbed | undefined
  try {
    const file = join(dir, 'payload.bin')
    await writeRandomFile(file, cfg.fileBytes)
    const sha = await sha256File(file)
    bed = await NetnsTestbed.create({ hosts: 2 + cfg.receivers, rateMbit: cfg.rateMbit })
    const raw = cfg.rateMbit * 1e6 / 8
    const rate = raw * GOODPUT
    const tMinS = tMin(cfg.fileBytes, cfg.receivers, rate, rate, rate)
    const tMinRaw = tMin(cfg.fileBytes, cfg.receivers, raw, raw, raw)
    console.log(`\nswarm testbed: ${bed.hosts} network namespaces on a bridge (h0 bootstrap, h1 seeder, h2..h${bed.hosts - 1} receivers), every host capped at ${cfg.rateMbit} Mbit/s up and down (tc tbf)`)
    console.log(`  F = ${cfg.fileBytes / MiB} MiB, N = ${cfg.receivers}, chunk size ${cfg.chunkSize ?? 'default'}; rates in T_min are payload goodput = ${GOODPUT.toFixed(3)} x cap = ${(rate / 1e6).toFixed(3)} MB/s`)
    console.log(`  T_min = max(F/u_s, F/d, N*F/(u_s+N*u)) = ${tMinS.toFixed(2)} s  (with the raw cap: ${tMinRaw.toFixed(2)} s)`)
    const runs: SwarmRun[] = []
    if (cfg.cold) {
      const run = await runSwarmOnce(bed, dir, file, sha, cfg, rate)
      runs.push(run)
      printSwarm(run, cfg, tMinS)
    }
    for (const corrupters of cfg.corrupt ?? []) {
      // the clean run to compare with, measured in this invocation on the same hosts
      let clean = runs.find(r => !r.warm && r.corrupt === undefined)
      if (clean === undefined) {
        clean = await runSwarmOnce(bed, dir, file, sha, cfg, rate)
        runs.push(clean)
        printSwarm(clean, cfg, tMinS)
      }
      const run = await runSwarmOnce(bed, dir, file, sha, cfg, rate, corrupters)
      runs.push(run)
      printSwarm(run, cfg, tMinS)
      const ratio = Math.max(...run.finishMs) / Math.max(...clean.finishMs)
      console.log(`  T_last / clean run's T_last (${fmtS(Math.max(...clean.finishMs))}): ${ratio.toFixed(2)} (goal <= 1.3)`)
    }
    if (cfg.warm) {
      const run = await runWarmOnce(bed, dir, file, sha, cfg, rate)
      runs.push(run)
      printSwarm(run, cfg, tMinS)
    }
    if (cfg.bt) {
      const reason = btBaselineUnavailableReason()
      if (reason !== undefined) {
        console.log(`\nBitTorrent baseline: skipped (${reason})`)
      } else {
        const pieceBytes = chunkBytes(cfg.chunkSize)
        const clients = Array.from({ length: cfg.receivers }, (_, r) => SEEDER_HOST + 1 + r)
        const bt = await runBtBaseline(bed, { tracker: BOOTSTRAP_HOST, seeder: SEEDER_HOST, clients, file, sha256: sha, pieceBytes, timeoutMs: cfg.timeoutMs, client1Log: process.env.SHOAL_BENCH_DEBUG === undefined ? undefined : join(tmpdir(), 'shoal-bench-aria2c-client1.log') })
        printBt(bt, cfg, tMinS, pieceBytes)
        const lastBt = Math.max(...bt.finishMs)
        for (const run of runs) {
          console.log(`  ${run.label}: shoal T_last / aria2c T_last = ${(Math.max(...run.finishMs) / lastBt).toFixed(2)} (goal <= 0.8)`)
        }
      }
    }
    if (cfg.http) {
      const clients = Array.from({ length: cfg.receivers }, (_, r) => SEEDER_HOST + 1 + r)
      const http = await runHttpBaseline(bed, { seeder: SEEDER_HOST, clients, file, sha256: sha, timeoutMs: cfg.timeoutMs })
      const lastHttp = Math.max(...http.clients.map(c => c.finishedAtMs))
      console.log(`\nclient-server baseline (HTTP from the seeder's host, same caps): last of ${clients.length} done at ${fmtS(lastHttp)}, server sent ${(http.serverTxBytes / cfg.fileBytes).toFixed(2)} x F`)
      console.log(`  HTTP T / T_min: ${(lastHttp / 1000 / tMinS).toFixed(2)}`)
      for (const run of runs) {
        const last = Math.max(...run.finishMs)
        console.log(`  ${run.label} T / HTTP T: ${(last / lastHttp).toFixed(2)}   (HTTP takes ${(lastHttp / last).toFixed(1)}x as long)`)
      }
    }
    return true
  } finally {
    await bed?.destroy()
    await rm(dir, { recursive: true, force: true })
  }
}
