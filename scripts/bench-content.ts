/**
 * Content-layer benchmark: manifest build throughput against a plain sha256 baseline over the same
 * bytes, and the peak RSS of adding a file twice that size in a child process.
 *
 *   node --expose-gc dist/scripts/bench-content.js          # 1 GiB + 2 GiB
 *   SHOAL_BENCH_SIZE_MB=64 node --expose-gc dist/...        # quick run
 *
 * Both throughput runs read a file that was just written, so they measure hashing plus page-cache
 * reads, not the disk. Each figure is the best of ROUNDS runs.
 */
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildManifest, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '../src/content/index.js'

const MiB = 1024 * 1024
const PATTERN_BYTES = 16 * MiB
const BASELINE_READ_BYTES = 16 * MiB
const ROUNDS = 3
const CHILD_FLAG = '--child-add'

function gc (): void {
  (globalThis as { gc?: () => void }).gc?.()
}

/** Writes `bytes` of random-looking data fast: one random pattern written over and over. */
async function writeFileOf (path: string, bytes: number): Promise<void> {
  const pattern = randomBytes(PATTERN_BYTES)
  const fh = await open(path, 'w')
  try {
    for (let written = 0; written < bytes;) {
      const n = Math.min(PATTERN_BYTES, bytes - written)
      await fh.write(pattern, 0, n, written)
      written += n
    }
  } finally {
    await fh.close()
  }
}

/** Plain node:crypto sha256 over the whole file, read with a big buffer: the throughput ceiling. */
async function baseline (path: string): Promise<number> {
  const buf = Buffer.allocUnsafe(BASELINE_READ_BYTES)
  const hash = createHash('sha256')
  const fh = await open(path, 'r')
  let total = 0
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, total)
      if (bytesRead === 0) break
      hash.update(buf.subarray(0, bytesRead))
      total += bytesRead
    }
  } finally {
    await fh.close()
  }
  hash.digest()
  return total
}

async function timeIt (fn: () => Promise<unknown>): Promise<number> {
  gc()
  const start = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - start) / 1e9
}

async function best (fn: () => Promise<unknown>): Promise<number> {
  let fastest = Infinity
  for (let i = 0; i < ROUNDS; i++) fastest = Math.min(fastest, await timeIt(fn))
  return fastest
}

const mbps = (bytes: number, seconds: number): number => bytes / MiB / seconds

/** Child mode: add one file and report the process's peak RSS. */
async function child (path: string): Promise<void> {
  const { manifest } = await buildManifest(path)
  const maxRssKb = process.resourceUsage().maxRSS
  process.stdout.write(JSON.stringify({ maxRssKb, size: manifest.size, chunks: manifest.files[0]?.chunks.length }) + '\n')
}

async function addInChild (path: string): Promise<{ maxRssKb: number, size: number, chunks: number }> {
  const script = fileURLToPath(import.meta.url)
  return await new Promise((resolve, reject) => {
    execFile(process.execPath, [script, CHILD_FLAG, path], { maxBuffer: MiB }, (err, stdout, stderr) => {
      if (err !== null) { reject(new Error(`child add failed: ${err.message}\n${stderr}`)); return }
      try { resolve(JSON.parse(stdout.trim())) } catch (e) { reject(e) }
    })
  })
}

async function main (): Promise<void> {
  const sizeMb = Number(process.env.SHOAL_BENCH_SIZE_MB ?? 1024)
  if (!Number.isInteger(sizeMb) || sizeMb < 1) throw new Error('SHOAL_BENCH_SIZE_MB must be a positive integer')
  const bytes = sizeMb * MiB
  const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-content-'))
  // Remove the files even when interrupted; finally blocks do not run on a signal.
  const onSignal = (): void => { rmSync(dir, { recursive: true, force: true }); process.exit(130) }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const file = join(dir, 'content.bin')
    console.log(`writing ${sizeMb} MiB to ${file}`)
    await writeFileOf(file, bytes)
    await baseline(file) // warm the page cache so both contenders read from memory

    const baseSeconds = await best(async () => await baseline(file))
    const base = mbps(bytes, baseSeconds)
    console.log(`baseline sha256 (one hash, ${BASELINE_READ_BYTES / MiB} MiB reads): ${base.toFixed(0)} MB/s`)

    const sizes = [MIN_CHUNK_SIZE, 256 * 1024, DEFAULT_CHUNK_SIZE, 4 * MiB, MAX_CHUNK_SIZE]
    let atDefault = 0
    for (const chunkSize of sizes) {
      const seconds = await best(async () => await buildManifest(file, { chunkSize }))
      const rate = mbps(bytes, seconds)
      if (chunkSize === DEFAULT_CHUNK_SIZE) atDefault = rate
      console.log(`buildManifest chunk ${String(chunkSize / 1024).padStart(5)} KiB: ${rate.toFixed(0)} MB/s (ratio ${(rate / base).toFixed(2)})`)
    }
    console.log(`RESULT throughput: buildManifest ${atDefault.toFixed(0)} MB/s, baseline ${base.toFixed(0)} MB/s, ratio ${(atDefault / base).toFixed(2)} (goal >= 0.8)`)

    await rm(file)
    const big = join(dir, 'big.bin')
    console.log(`writing ${2 * sizeMb} MiB to ${big}`)
    await writeFileOf(big, 2 * bytes)
    const result = await addInChild(big)
    if (result.size !== 2 * bytes) throw new Error(`child hashed ${result.size} bytes, expected ${2 * bytes}`)
    console.log(`RESULT peak RSS adding ${2 * sizeMb} MiB (${result.chunks} chunks of ${DEFAULT_CHUNK_SIZE / MiB} MiB) in a child: ${(result.maxRssKb / 1024).toFixed(1)} MB (goal < 150 MB)`)
  } finally {
    await rm(dir, { recursive: true, force: true })
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

if (process.argv[2] === CHILD_FLAG) {
  await child(process.argv[3]!)
} else {
  await main()
}
