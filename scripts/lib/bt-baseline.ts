import type { ChildProcess } from 'node:child_process'
import { execFile } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { processCpuMs, sha256File } from './http-baseline.js'
import { ensureDebianTools } from './debian-packages.js'
import { stopChild } from './stop-child.js'
import type { NetnsTestbed } from './netns-hosts.js'

const execFileAsync = promisify(execFile)

const TRACKER_PORT = 6969
const PEER_PORT = 6881
/** The tracker and the seeder get this long to listen and announce before the clock starts (as shoal's seeder does). */
const SETTLE_MS = 2_000
const POLL_MS = 100
const DEFAULT_TIMEOUT_MS = 300_000

/** Debian packages of the BitTorrent baseline. */
export const BT_TOOLS = [
  { command: 'aria2c', pkg: 'aria2' },
  { command: 'opentracker', pkg: 'opentracker' },
  { command: 'mktorrent', pkg: 'mktorrent' }
]

/**
 * aria2c options of every peer, chosen so the run measures BitTorrent's swarm, not its extras:
 * the tracker alone finds peers (it hands every one of the 9 to each announce, numwant 50), so DHT,
 * local peer discovery and peer exchange would add only traffic on the seeder's uplink; no file
 * preallocation (shoal writes sparse too); no console readout (nobody reads it).
 */
const COMMON_ARGS = [
  '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
  `--listen-port=${PEER_PORT}`, '--bt-max-peers=32', '--file-allocation=none',
  // seed until killed: receivers keep serving until the last one is done, as shoal's --seed-time inf
  '--seed-ratio=0.0',
  '--show-console-readout=false', '--summary-interval=0', '--console-log-level=error', '--download-result=hide',
  '--enable-color=false', '--auto-save-interval=0'
]

/** Options of runBtBaseline. */
export interface BtBaselineOptions {
  /** host running opentracker (shoal's bootstrap host) */
  tracker: number
  seeder: number
  clients: number[]
  file: string
  sha256: string
  /** piece size; a power of two (shoal's chunk size, for a fair comparison) */
  pieceBytes: number
  timeoutMs?: number
  /** aria2c's log of the first client, at level info (the bench sets it with SHOAL_BENCH_DEBUG) */
  client1Log?: string
}

/** What the BitTorrent baseline measured. */
export interface BtBaselineResult {
  /** per client, in the order given: ms from spawning every client to its download completing */
  finishMs: number[]
  /** bytes the seeder's interface sent during the run */
  seederTxBytes: number
  /** CPU of every aria2c process from the spawn of the clients to the last completion, ms */
  cpuMs: number
  wallMs: number
  verified: boolean
  version: string
}

/** Installs aria2, opentracker and mktorrent when missing (as root); the reason when they cannot be had. */
export function btBaselineUnavailableReason (): string | undefined {
  return ensureDebianTools(BT_TOOLS)
}

function drain (child: ChildProcess, name: string): () => string {
  let tail = ''
  child.stdout?.on('data', (b: Buffer) => { tail = (tail + b.toString()).slice(-2000) })
  child.stderr?.on('data', (b: Buffer) => { tail = (tail + b.toString()).slice(-2000) })
  return () => `${name}: ${tail.trim()}`
}

/** The info hash aria2c reads from a .torrent (`aria2c -S`), lower-case hex. */
async function infoHash (torrent: string): Promise<string> {
  const { stdout } = await execFileAsync('aria2c', ['-S', torrent], { maxBuffer: 4 << 20 })
  const m = /^Info Hash: ([0-9a-f]{40})$/m.exec(stdout)
  if (m === null) throw new Error(`aria2c -S ${torrent} printed no info hash`)
  return m[1]!
}

/**
 * The BitTorrent baseline on the testbed: opentracker on `tracker`, an aria2c seeding `file` in
 * place on `seeder`, every client an aria2c started at the same moment, each verified by sha256.
 * A client is done when aria2c runs its --on-bt-download-complete hook (before it starts seeding),
 * which writes the wall-clock time in ns next to the file.
 */
export async function runBtBaseline (bed: NetnsTestbed, options: BtBaselineOptions): Promise<BtBaselineResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const exponent = Math.log2(options.pieceBytes)
  if (!Number.isInteger(exponent)) throw new Error(`piece size ${options.pieceBytes} is not a power of two`)
  const dir = await mkdtemp(join(tmpdir(), 'shoal-bt-baseline-'))
  const children: ChildProcess[] = []
  try {
    const { stdout: versionText } = await execFileAsync('aria2c', ['--version'])
    const version = versionText.split('\n', 1)[0]?.trim() ?? '?'
    const torrent = join(dir, 'content.torrent')
    const announce = `http://${bed.ip(options.tracker)}:${TRACKER_PORT}/announce`
    await execFileAsync('mktorrent', ['-a', announce, '-l', String(exponent), '-o', torrent, options.file], { maxBuffer: 4 << 20 })
    // Debian's opentracker serves whitelisted torrents only, refuses to run as root, and chroots:
    // its directory (the chroot) must be readable by `nobody`
    const trackerDir = join(dir, 'tracker')
    await mkdir(trackerDir)
    await writeFile(join(trackerDir, 'whitelist.txt'), `${await infoHash(torrent)}\n`)
    await chmod(dir, 0o755)
    await chmod(trackerDir, 0o755)
    await chmod(join(trackerDir, 'whitelist.txt'), 0o644)
    const hook = join(dir, 'done-hook.sh')
    // aria2c passes GID, file count and the first file's path: the stamp goes next to the file
    await writeFile(hook, '#!/bin/sh\ndate +%s%N > "$3.done"\n', { mode: 0o755 })

    const tracker = bed.spawn(options.tracker, 'opentracker', ['-i', bed.ip(options.tracker), '-p', String(TRACKER_PORT), '-P', String(TRACKER_PORT), '-d', trackerDir, '-u', 'nobody', '-w', '/whitelist.txt'])
    children.push(tracker)
    const trackerLog = drain(tracker, 'opentracker')
    await sleep(500)
    if (tracker.exitCode !== null) throw new Error(`opentracker exited at once: ${trackerLog()}`)
    const seeder = bed.spawn(options.seeder, 'aria2c', [...COMMON_ARGS, '--bt-seed-unverified=true', '--check-integrity=false', '-d', dirname(options.file), torrent])
    children.push(seeder)
    const seederLog = drain(seeder, 'aria2c seeder')
    await sleep(SETTLE_MS)
    if (seeder.exitCode !== null) throw new Error(`the seeding aria2c exited: ${seederLog()}`)

    const outs = options.clients.map(host => join(dir, `h${host}`))
    await Promise.all(outs.map(async out => { await mkdir(out) }))
    const tx0 = await bed.txBytes(options.seeder)
    const seederCpu0 = await processCpuMs(seeder.pid!)
    const startEpochMs = Date.now()
    const start = performance.now()
    const clients = options.clients.map((host, i) => {
      const log = i === 0 && options.client1Log !== undefined ? [`--log=${options.client1Log}`, '--log-level=info'] : []
      const child = bed.spawn(host, 'aria2c', [...COMMON_ARGS, ...log, '--allow-overwrite=true', `--on-bt-download-complete=${hook}`, '-d', outs[i]!, torrent])
      children.push(child)
      return { child, log: drain(child, `aria2c on h${host}`) }
    })
    const stamps = outs.map(out => join(out, `${basename(options.file)}.done`))
    const finishMs: Array<number | undefined> = stamps.map(() => undefined)
    while (finishMs.some(ms => ms === undefined)) {
      if (performance.now() - start > timeoutMs) throw new Error(`BitTorrent baseline: ${finishMs.filter(ms => ms === undefined).length} client(s) not done within ${timeoutMs} ms`)
      const dead = clients.find(c => c.child.exitCode !== null)
      if (dead !== undefined) throw new Error(`an aria2c client exited before the run ended (${dead.child.exitCode}): ${dead.log()}`)
      await Promise.all(stamps.map(async (stamp, i) => {
        if (finishMs[i] !== undefined) return
        const text = await readFile(stamp, 'utf8').catch(() => '')
        // the hook may be caught half-written: only a whole line counts
        if (/^\d+\n$/.test(text)) finishMs[i] = Number(BigInt(text.trim()) / 1_000_000n) - startEpochMs
      }))
      await sleep(POLL_MS)
    }
    const wallMs = performance.now() - start
    const seederTxBytes = await bed.txBytes(options.seeder) - tx0
    const cpus = await Promise.all(clients.map(async c => await processCpuMs(c.child.pid!).catch(() => 0)))
    const cpuMs = cpus.reduce((a, b) => a + b, 0) + await processCpuMs(seeder.pid!).catch(() => seederCpu0) - seederCpu0
    const files = outs.map(out => join(out, basename(options.file)))
    const sizes = await Promise.all(files.map(async f => (await stat(f)).size))
    const hashes = await Promise.all(files.map(async f => await sha256File(f)))
    const expected = (await stat(options.file)).size
    return {
      finishMs: finishMs as number[],
      seederTxBytes,
      cpuMs,
      wallMs,
      verified: hashes.every(h => h === options.sha256) && sizes.every(s => s === expected),
      version
    }
  } finally {
    await Promise.all(children.map(stopChild))
    await rm(dir, { recursive: true, force: true })
  }
}
