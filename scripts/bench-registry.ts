/**
 * Registry mirror benchmark (issue 14 item 4), in network namespaces: h0 runs Debian's
 * docker-registry (and the bootstrap node), h1..h8 each run a `shoal daemon --registry` mirror, all
 * at the same tc cap (20 Mbit/s); the 8 hosts pull the same image (~48 MiB, 4 random layers) with
 * skopeo at the same time through their own mirror; then the same 8 hosts pull it directly from the
 * registry. Prints both last-pull times and the registry's egress as a multiple of the image size.
 * Needs root and docker-registry + skopeo (installed when missing); prints, never asserts.
 */
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { ensureDebianTools } from './lib/debian-packages.js'
import { processCpuMs } from './lib/http-baseline.js'
import { NetnsTestbed, netnsUnavailableReason } from './lib/netns-hosts.js'
import { buildTestImage } from './lib/oci-image.js'
import type { TestImage } from './lib/oci-image.js'
import { ShoalProcess } from './lib/shoal-process.js'

const MiB = 1024 * 1024
const REGISTRY_HOST = 0
const REGISTRY_PORT = 5000
const SHOAL_PORT = 4001
const START_TIMEOUT_MS = 60_000
/** Time for the mirrors' DHT routing tables to fill after they connected to the bootstrap node. */
const SETTLE_MS = 3_000

export interface RegistryBenchConfig {
  mirrors: number
  layers: number
  layerBytes: number
  rateMbit: number
  timeoutMs: number
}

interface PullRound {
  label: string
  /** ms from t0 to each pull's end */
  pullMs: number[]
  /** bytes the registry host sent during the round */
  registryEgress: number
}

function fmtS (ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

/** Why the benchmark cannot run here, or undefined. */
export function registryBenchUnavailableReason (): string | undefined {
  return netnsUnavailableReason() ?? ensureDebianTools([{ command: 'docker-registry', pkg: 'docker-registry' }, { command: 'skopeo', pkg: 'skopeo' }])
}

async function waitExit (child: ChildProcess, what: string, timeoutMs: number): Promise<void> {
  let err = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { err = (err + d).slice(-2000) })
  child.stdout?.resume()
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${what} did not finish within ${timeoutMs} ms`)) }, timeoutMs)
    child.once('exit', c => { clearTimeout(timer); resolve(c) })
  })
  if (code !== 0) throw new Error(`${what} exited with ${code}: ${err.trim()}`)
}

async function pullAll (bed: NetnsTestbed, dir: string, policy: string, label: string, source: (host: number) => string, image: TestImage, cfg: RegistryBenchConfig): Promise<PullRound> {
  const before = await bed.txBytes(REGISTRY_HOST)
  const t0 = performance.now()
  const pullMs = await Promise.all(Array.from({ length: cfg.mirrors }, async (_, k) => {
    const host = k + 1
    const out = join(dir, `${label}-${host}`)
    const child = bed.spawn(host, 'skopeo', ['--policy', policy, 'copy', '--src-tls-verify=false', `docker://${source(host)}/bench/img:v1`, `oci:${out}`])
    await waitExit(child, `skopeo pull on h${host} (${label})`, cfg.timeoutMs)
    const ms = performance.now() - t0
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> }
    if (index.manifests[0]?.digest !== image.manifestDigest) throw new Error(`h${host} pulled manifest ${index.manifests[0]?.digest}, not ${image.manifestDigest}`)
    return ms
  }))
  return { label, pullMs, registryEgress: await bed.txBytes(REGISTRY_HOST) - before }
}

/** Busy and total CPU time of the whole machine so far (ms, every core), from /proc/stat. */
async function machineCpuMs (): Promise<{ busy: number, total: number }> {
  const fields = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number)
  const total = fields.reduce((a, b) => a + b, 0)
  // idle and iowait
  const busy = total - fields[3]! - fields[4]!
  return { busy: busy * 10, total: total * 10 }
}

function printRound (round: PullRound, image: TestImage): void {
  const sorted = [...round.pullMs].sort((a, b) => a - b)
  console.log(`  ${round.label.padEnd(8)} first pull ${fmtS(sorted[0] ?? 0)}, median ${fmtS(sorted[Math.floor(sorted.length / 2)] ?? 0)}, last ${fmtS(sorted[sorted.length - 1] ?? 0)}; registry egress ${(round.registryEgress / MiB).toFixed(1)} MiB = ${(round.registryEgress / image.size).toFixed(2)} x the image`)
}

/** Runs the benchmark; false when it cannot run here (the reason is printed). */
export async function runRegistryBench (cfg: RegistryBenchConfig): Promise<boolean> {
  console.log(`\nregistry: ${cfg.mirrors} hosts pull one ${cfg.layers}-layer image of ~${(cfg.layers * cfg.layerBytes / MiB).toFixed(0)} MiB, registry and hosts at ${cfg.rateMbit} Mbit/s`)
  const reason = registryBenchUnavailableReason()
  if (reason !== undefined) {
    console.log(`  skipped: ${reason}`)
    return false
  }
  const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-registry-'))
  const bed = await NetnsTestbed.create({ hosts: cfg.mirrors + 1, rateMbit: cfg.rateMbit })
  const procs: ShoalProcess[] = []
  try {
    const image = await buildTestImage(join(dir, 'image'), Array.from({ length: cfg.layers }, () => cfg.layerBytes))
    const policy = join(dir, 'policy.json')
    await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }))
    await mkdir(join(dir, 'storage'))
    const config = join(dir, 'registry.yml')
    await writeFile(config, `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'storage')}\nhttp:\n  addr: 0.0.0.0:${REGISTRY_PORT}\n`)
    const registry = bed.spawn(REGISTRY_HOST, 'docker-registry', ['serve', config])
    registry.stdout?.resume()
    registry.stderr?.resume()
    const registryAddr = `${bed.ip(REGISTRY_HOST)}:${REGISTRY_PORT}`
    // pushed over the registry host's own loopback: not shaped, not counted in its egress
    for (let attempt = 0; ; attempt++) {
      try {
        await waitExit(bed.spawn(REGISTRY_HOST, 'skopeo', ['--policy', policy, 'copy', '--dest-tls-verify=false', `oci:${image.dir}:${image.tag}`, `docker://127.0.0.1:${REGISTRY_PORT}/bench/img:v1`]), 'skopeo push', 120_000)
        break
      } catch (err) {
        if (attempt >= 20) throw err
        await new Promise(resolve => setTimeout(resolve, 250))
      }
    }
    console.log(`  image ${image.manifestDigest}: ${(image.size / MiB).toFixed(1)} MiB in ${image.layers.length} layers + config`)

    const bootstrap = ShoalProcess.inHost(bed, REGISTRY_HOST, 'bootstrap', ['bootstrap', '--listen', `/ip4/${bed.ip(REGISTRY_HOST)}/tcp/${SHOAL_PORT}`, '--data-dir', join(dir, 'data-boot'), '--json'])
    procs.push(bootstrap)
    const boot = ((await bootstrap.waitFor('result', START_TIMEOUT_MS)).event.multiaddrs as string[])[0]!
    const mirrors = Array.from({ length: cfg.mirrors }, (_, k) => {
      const host = k + 1
      const debug = process.env.SHOAL_BENCH_DEBUG
      const p = ShoalProcess.inHost(bed, host, `mirror-h${host}`, ['daemon', '--data-dir', join(dir, `data-h${host}`), '--listen', `/ip4/${bed.ip(host)}/tcp/${SHOAL_PORT}`,
        '--bootstrap', boot, '--api', '127.0.0.1:7070', '--registry', `127.0.0.1:${REGISTRY_PORT}`, '--upstream', `http://${registryAddr}`, '--json'], debug === undefined ? {} : { DEBUG: debug })
      // SHOAL_BENCH_DEBUG='shoal:registry,...': each mirror's log, for finding out why a round was slow
      if (debug !== undefined) {
        const log = createWriteStream(join(tmpdir(), `shoal-bench-registry-h${host}.log`))
        p.onStderrLine(line => { log.write(line + '\n') })
      }
      procs.push(p)
      return p
    })
    await Promise.all(mirrors.map(async m => await m.waitFor('result', START_TIMEOUT_MS)))
    await new Promise(resolve => setTimeout(resolve, SETTLE_MS))

    const cpuOf = async (): Promise<number> => (await Promise.all(mirrors.map(async m => await processCpuMs(m.child.pid!).catch(() => 0)))).reduce((a, b) => a + b, 0)
    const [cpu0, machine0, wall0] = [await cpuOf(), await machineCpuMs(), performance.now()]
    const mirrored = await pullAll(bed, dir, policy, 'mirrored', () => `127.0.0.1:${REGISTRY_PORT}`, image, cfg)
    const [cpu1, machine1, wall1] = [await cpuOf(), await machineCpuMs(), performance.now()]
    await Promise.all(mirrors.map(async m => await m.stop()))
    printRound(mirrored, image)
    // the 2 shared cores are a limit of this benchmark, not of a fleet: printed so a slow round can be told apart
    console.log(`  CPU during the mirrored round: the ${cfg.mirrors} mirrors used ${((cpu1 - cpu0) / 1000).toFixed(1)} CPU-s in ${fmtS(wall1 - wall0)}; the machine's ${cpus().length} cores were ${(100 * (machine1.busy - machine0.busy) / (machine1.total - machine0.total)).toFixed(0)}% busy (other jobs included)`)
    // SHOAL_BENCH_MIRRORED_ONLY=1: the mirrored round alone, for tuning (the goals need both rounds)
    if (process.env.SHOAL_BENCH_MIRRORED_ONLY === '1') return true
    const direct = await pullAll(bed, dir, policy, 'direct', () => registryAddr, image, cfg)
    printRound(direct, image)
    const lastMirrored = Math.max(...mirrored.pullMs)
    const lastDirect = Math.max(...direct.pullMs)
    console.log(`  last mirrored pull / last direct pull: ${(lastMirrored / lastDirect).toFixed(2)} (goal <= 0.3); registry egress with mirrors: ${(mirrored.registryEgress / image.size).toFixed(2)} x the image (goal <= 1.2)`)
    return true
  } finally {
    await Promise.all(procs.map(async p => await p.stop()))
    await bed.destroy()
    await rm(dir, { recursive: true, force: true })
  }
}
