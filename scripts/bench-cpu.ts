/**
 * CPU of a loopback swarm, per process kind: 1 `shoal bootstrap`, 1 `shoal seed`, N `shoal get`
 * processes on 127.0.0.1, every node capped with --upload-limit/--download-limit (no root, no tc).
 * CPU-s (utime+stime from /proc) are counts, not timings: this runs niced beside other work, and an
 * A/B runs two builds interleaved (`--cli` of the other build). Prints, never asserts.
 *
 *   node dist/scripts/bench-cpu.js [--receivers 8] [--size 32M] [--rate 2.5M] [--idle 10]
 *        [--rounds 1] [--cli <main.js>[,<main.js>]] [--flags '<flags>[;<flags>]'] [--env 'K=V[;K=V]']
 *        [--prof <dir>] [--debug <namespaces>]
 *
 * --cli takes one or more CLI bundles (default this build's), comma-separated; --flags one or more
 * sets of extra node flags and --env one or more sets of K=V for every node, each ';'-separated:
 * each round runs every combination in turn (interleaved A/B). --prof writes a V8 CPU profile of the bootstrap, the seeder and receiver 1
 * (`--cpu-prof`, written when each exits) to <dir>. --debug <namespaces> adds DEBUG namespaces to
 * receiver 1 and writes its stderr to $TMPDIR/shoal-bench-cpu-receiver1.log.
 */
import { createWriteStream, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { processCpuMs, sha256File } from './lib/http-baseline.js'
import { SHOAL_CLI, ShoalProcess, writeRandomFile } from './lib/shoal-process.js'
import { TRACE_ENV } from './lib/run-diagnostics.js'

const MiB = 1024 * 1024
const START_TIMEOUT_MS = 30_000
const RUN_TIMEOUT_MS = 300_000

/** CPU-ms of each process kind at each phase boundary. */
export interface CpuSplit {
  /** every process from spawn to node up (receivers: their `node` line; seeder: its `result`) */
  start: { bootstrap: number, seeder: number, receivers: number[] }
  /** from the gets' spawn to the last receiver done, start-up of the receivers included */
  run: { bootstrap: number, seeder: number, receivers: number[] }
  /** the idle seconds after the run (every receiver seeding on) */
  idle: { bootstrap: number, seeder: number, receivers: number[] }
  wallMs: number
  idleMs: number
  verified: boolean
}

function nodeFlagsOf (cli: string): string[] {
  const first = readFileSync(cli, 'utf8').split('\n', 1)[0] ?? ''
  const m = /^#!\/usr\/bin\/env -S node (.*)$/.exec(first)
  return m === null ? [] : m[1]!.trim().split(/\s+/)
}

/** One build and configuration to measure: a CLI bundle, extra node flags, extra environment. */
interface Variant {
  cli: string
  flags: string[]
  env: NodeJS.ProcessEnv
}

function start (v: Variant, name: string, args: string[], env: NodeJS.ProcessEnv, profDir?: string): ShoalProcess {
  const prof = profDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${name.replace(/\s+/g, '-')}-${Date.now()}.cpuprofile`]
  const child = spawn(process.execPath, [...nodeFlagsOf(v.cli), ...v.flags, ...prof, v.cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...TRACE_ENV, ...v.env, ...env } })
  return new ShoalProcess(child, name)
}

async function cpuOf (p: ShoalProcess): Promise<number> {
  return await processCpuMs(p.child.pid!).catch(() => 0)
}

async function runOnce (variant: Variant, file: string, sha: string, opts: { receivers: number, rate: string, idleMs: number, profDir?: string, debug?: string }): Promise<CpuSplit> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-cpu-'))
  const procs: ShoalProcess[] = []
  const limits = ['--upload-limit', opts.rate, '--download-limit', opts.rate]
  const common = (name: string): string[] => ['--json', '--data-dir', join(dir, name), '--listen', '/ip4/127.0.0.1/tcp/0']
  try {
    const boot = start(variant, 'bootstrap', ['bootstrap', ...common('bootstrap')], {}, opts.profDir)
    procs.push(boot)
    const bootAddr = String(((await boot.waitFor('result', START_TIMEOUT_MS)).event.multiaddrs as string[])[0])
    const bootStart = await cpuOf(boot)
    const seeder = start(variant, 'seeder', ['seed', file, ...common('seeder'), ...limits, '--bootstrap', bootAddr], {}, opts.profDir)
    procs.push(seeder)
    const cid = String((await seeder.waitFor('result', START_TIMEOUT_MS)).event.cid)
    const seederStart = await cpuOf(seeder)
    // as the netns bench does: let the seeder's provide and gossip join settle
    await new Promise(resolve => setTimeout(resolve, 2_000))
    const boot0 = await cpuOf(boot)
    const seeder0 = await cpuOf(seeder)
    const t0 = performance.now()
    const receivers: ShoalProcess[] = []
    for (let r = 0; r < opts.receivers; r++) {
      const out = join(dir, `out-${r}`)
      await mkdir(out)
      const debug = r === 0 && opts.debug !== undefined ? { DEBUG: `${TRACE_ENV.DEBUG},${opts.debug}` } : {}
      const p = start(variant, `receiver ${r + 1}`, ['get', cid, ...common(`r${r}`), ...limits, '-o', out, '--seed-time', 'inf', '--bootstrap', bootAddr], debug, r === 0 ? opts.profDir : undefined)
      if (r === 0 && opts.debug !== undefined) {
        const log = createWriteStream(join(tmpdir(), 'shoal-bench-cpu-receiver1.log'))
        p.child.stderr?.on('data', (text: string) => { log.write(text) })
        p.child.once('exit', () => { log.end() })
      }
      procs.push(p)
      receivers.push(p)
    }
    const receiverStart = await Promise.all(receivers.map(async p => {
      await p.waitFor('node', START_TIMEOUT_MS)
      return await cpuOf(p)
    }))
    const done = await Promise.all(receivers.map(async p => await p.waitFor('result', RUN_TIMEOUT_MS)))
    const wallMs = performance.now() - t0
    const runEnd = { boot: await cpuOf(boot), seeder: await cpuOf(seeder), receivers: await Promise.all(receivers.map(cpuOf)) }
    await new Promise(resolve => setTimeout(resolve, opts.idleMs))
    const idleEnd = { boot: await cpuOf(boot), seeder: await cpuOf(seeder), receivers: await Promise.all(receivers.map(cpuOf)) }
    const hashes = await Promise.all(done.map(async d => await sha256File(String(d.event.path))))
    return {
      start: { bootstrap: bootStart, seeder: seederStart, receivers: receiverStart },
      run: { bootstrap: runEnd.boot - boot0, seeder: runEnd.seeder - seeder0, receivers: runEnd.receivers },
      idle: { bootstrap: idleEnd.boot - runEnd.boot, seeder: idleEnd.seeder - runEnd.seeder, receivers: idleEnd.receivers.map((c, r) => c - runEnd.receivers[r]!) },
      wallMs,
      idleMs: opts.idleMs,
      verified: hashes.every(h => h === sha)
    }
  } finally {
    await Promise.all(procs.map(async p => { await p.stop() }))
    await rm(dir, { recursive: true, force: true })
  }
}

const s = (ms: number): string => (ms / 1000).toFixed(2)
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)
const range = (xs: number[]): string => `${s(Math.min(...xs))}-${s(Math.max(...xs))}`

function print (label: string, c: CpuSplit): void {
  const total = c.run.bootstrap + c.run.seeder + sum(c.run.receivers)
  console.log(`${label}: all ${c.run.receivers.length + 2} processes ${s(total)} CPU-s in ${s(c.wallMs)} s (${(100 * total / c.wallMs / 2).toFixed(0)}% of 2 cores); verified ${c.verified ? 'yes' : 'NO'}`)
  console.log(`  run:   bootstrap ${s(c.run.bootstrap)}, seeder ${s(c.run.seeder)}, receivers ${s(sum(c.run.receivers))} (each ${range(c.run.receivers)}, of which start ${range(c.start.receivers)})`)
  console.log(`  start: bootstrap ${s(c.start.bootstrap)}, seeder ${s(c.start.seeder)} (to its result, content added)`)
  console.log(`  idle ${s(c.idleMs)} s after: bootstrap ${s(c.idle.bootstrap)}, seeder ${s(c.idle.seeder)}, receivers each ${range(c.idle.receivers)}`)
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      receivers: { type: 'string', default: '8' },
      size: { type: 'string', default: '32M' },
      rate: { type: 'string', default: '2.5M' },
      idle: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '1' },
      cli: { type: 'string', default: SHOAL_CLI },
      flags: { type: 'string', default: '' },
      env: { type: 'string', default: '' },
      prof: { type: 'string' },
      debug: { type: 'string' }
    }
  })
  const m = /^(\d+)M$/i.exec(values.size)
  if (m === null) throw new Error(`--size ${values.size}: give MiB, e.g. 32M`)
  const variants: Variant[] = []
  for (const cli of values.cli.split(',')) {
    for (const flags of values.flags.split(';')) {
      for (const env of values.env.split(';')) {
        variants.push({
          cli: resolve(cli),
          flags: flags.split(/\s+/).filter(f => f !== ''),
          env: Object.fromEntries(env.split(/\s+/).filter(e => e !== '').map(e => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
        })
      }
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-cpu-file-'))
  try {
    const file = join(dir, 'payload.bin')
    await writeRandomFile(file, Number(m[1]) * MiB)
    const sha = await sha256File(file)
    const profDir = values.prof === undefined ? undefined : resolve(values.prof)
    if (profDir !== undefined) await mkdir(profDir, { recursive: true })
    for (let round = 1; round <= Number(values.rounds); round++) {
      for (const v of variants) {
        const split = await runOnce(v, file, sha, { receivers: Number(values.receivers), rate: values.rate, idleMs: Number(values.idle) * 1000, profDir, debug: values.debug })
        print(`round ${round}, ${v.cli}${v.flags.length > 0 ? ` ${v.flags.join(' ')}` : ''}${Object.keys(v.env).length > 0 ? ` ${Object.entries(v.env).map(([k, x]) => `${k}=${x ?? ''}`).join(' ')}` : ''}`, split)
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
