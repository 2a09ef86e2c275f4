/**
 * Peak resident memory of a receiver: a `shoal seed` process and a `shoal get` process on loopback,
 * the receiver's VmHWM polled from /proc while it downloads. Prints, never asserts.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256File } from './lib/http-baseline.js'
import { ShoalProcess, writeRandomFile } from './lib/shoal-process.js'

const MiB = 1024 * 1024
const START_TIMEOUT_MS = 120_000

export interface RssBenchConfig {
  fileBytes: number
  chunkSize?: string
  timeoutMs?: number
}

export interface RssResult {
  peakRssBytes: number
  seconds: number
  verified: boolean
}

/** Runs the receiver-memory part; prints its figures. */
export async function runRssBench (cfg: RssBenchConfig): Promise<RssResult> {
  if (process.platform !== 'linux') throw new Error('peak RSS is read from /proc: Linux only')
  const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-rss-'))
  const procs: ShoalProcess[] = []
  try {
    const file = join(dir, 'payload.bin')
    await writeRandomFile(file, cfg.fileBytes)
    const common = (name: string): string[] => ['--json', '--data-dir', join(dir, name), '--listen', '/ip4/127.0.0.1/tcp/0']
    const seedArgs = ['seed', file, ...common('seeder')]
    if (cfg.chunkSize !== undefined) seedArgs.push('--chunk-size', cfg.chunkSize)
    const seeder = ShoalProcess.local('seeder', seedArgs)
    procs.push(seeder)
    const added = (await seeder.waitFor('result', START_TIMEOUT_MS)).event
    const addr = String((added.multiaddrs as string[])[0])
    const out = join(dir, 'out')
    await mkdir(out)
    const receiver = ShoalProcess.local('receiver', ['get', String(added.cid), ...common('receiver'), '-o', out, '--bootstrap', addr])
    procs.push(receiver)
    receiver.startRssSampling(50)
    const start = performance.now()
    const done = await receiver.waitFor('result', cfg.timeoutMs ?? 600_000)
    const seconds = (done.at - start) / 1000
    await receiver.exited
    const verified = await sha256File(String(done.event.path)) === await sha256File(file)
    const result = { peakRssBytes: receiver.peakRssBytes, seconds, verified }
    console.log(`\nreceiver memory: \`shoal get\` of ${cfg.fileBytes / MiB} MiB over loopback from a \`shoal seed\` process (chunk size ${cfg.chunkSize ?? 'default'})`)
    console.log(`  peak RSS (VmHWM, polled every 50 ms): ${(result.peakRssBytes / 1e6).toFixed(0)} MB (goal < 200 MB)`)
    console.log(`  took ${seconds.toFixed(1)} s (${(cfg.fileBytes / MiB / seconds).toFixed(1)} MiB/s, process start-up included); sha256 equals the source: ${verified ? 'yes' : 'NO'}`)
    return result
  } finally {
    await Promise.all(procs.map(async p => { await p.stop() }))
    await rm(dir, { recursive: true, force: true })
  }
}
