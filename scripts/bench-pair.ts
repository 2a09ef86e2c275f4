/**
 * Single-transfer throughput over unshaped loopback, two nodes, each in its own thread (as two
 * hosts would be; this machine has 2 cores). In the same run, between the same two threads:
 *   - baseline: a bare libp2p stream (TCP + Noise + yamux) pushing the bytes;
 *   - shoal get: a real ShoalNode `get` from a ShoalNode seeding a file (DHT lookup, manifest,
 *     swarm session, verification and store writes included; a fresh receiver per round);
 *   - xfer: the /shoal/xfer protocol alone from in-memory chunks, with and without sha256.
 * Each figure comes with the CPU time the whole process (both threads and libuv's pool) spent on
 * it, per GiB moved: unlike MiB/s it hardly moves when other jobs share the cores. Prints, never asserts. `node dist/scripts/bench-pair.js` runs it alone, configured by:
 *
 *   SHOAL_BENCH_MB      megabytes (MiB) moved per run          (default 256)
 *   SHOAL_BENCH_CHUNK   chunk size in KiB                     (default 1024)
 *   SHOAL_BENCH_DEPTH   xfer-only requests in flight          (default 16)
 *   SHOAL_BENCH_PIECE   DATA piece size in KiB                (default: the protocol default)
 *   SHOAL_BENCH_ROUNDS  measured rounds of each               (default 3)
 *   SHOAL_BENCH_SPLIT   0: everything on one event loop       (default 1: sender in a worker thread)
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { XferProtocol } from '../src/net/xfer/index.js'
import { shoalNoise } from '../src/net/shoal-noise.js'
import { ShoalError } from '../src/util/shoal-error.js'
import { ShoalNode } from '../src/node/shoal-node.js'
import { writeRandomFile } from './lib/shoal-process.js'
import type { XferContentSource, XferInit } from '../src/net/xfer/index.js'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'

const KiB = 1024
const MiB = 1024 * KiB
const BASELINE_PROTOCOL = '/shoal/bench-push/1.0.0'

export interface PairBenchConfig {
  totalMiB: number
  rounds: number
  /** chunk size in KiB, for the xfer-only runs and the seeded file */
  chunkKiB?: number
  /** xfer-only requests in flight */
  depth?: number
  pieceKiB?: number
  /** the sender in a worker thread (default true) */
  split?: boolean
}

interface Resolved { totalMiB: number, rounds: number, chunkKiB: number, depth: number, pieceKiB?: number, split: boolean, file: string }

let cfg: Resolved
let totalBytes = 0
let chunkSize = 0
let chunkCount = 0

function configure (c: Resolved): void {
  cfg = c
  totalBytes = c.totalMiB * MiB
  chunkSize = c.chunkKiB * KiB
  chunkCount = Math.ceil(totalBytes / chunkSize)
}

/** The transport stack of src/net/create-libp2p.ts (TCP, shoalNoise, yamux defaults) and nothing else. */
async function makeNode (): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [shoalNoise()],
    streamMuxers: [yamux()]
  })
}

/** Waits for a fresh 'drain' whenever send() said the buffer is full (stream.onDrain is one-shot). */
async function drained (stream: Stream): Promise<void> {
  while (stream.writableNeedsDrain) {
    await new Promise<void>((resolve, reject) => {
      const done = (): void => { stream.removeEventListener('close', fail); resolve() }
      const fail = (): void => { stream.removeEventListener('drain', done); reject(new Error('stream closed')) }
      stream.addEventListener('drain', done, { once: true })
      stream.addEventListener('close', fail, { once: true })
    })
  }
}

/** One run's speed and the CPU the process spent on it, in CPU-s per GiB moved. */
interface Run { mibs: number, cpuPerGiB: number }

/** Starts a measurement; the returned function ends it for `bytes` moved. */
function measure (): (bytes: number) => Run {
  const started = performance.now()
  const cpu = process.cpuUsage()
  return (bytes) => {
    const seconds = (performance.now() - started) / 1000
    const used = process.cpuUsage(cpu)
    return { mibs: bytes / MiB / seconds, cpuPerGiB: (used.user + used.system) / 1e6 / (bytes / (1024 * MiB)) }
  }
}

async function baseline (server: PeerId, client: Libp2p): Promise<Run> {
  const stream = await client.dialProtocol(server, BASELINE_PROTOCOL)
  const done = measure()
  let received = 0
  await new Promise<void>((resolve, reject) => {
    stream.addEventListener('message', evt => {
      received += evt.data.byteLength
      if (received >= totalBytes) resolve()
    })
    stream.addEventListener('close', () => { if (received < totalBytes) reject(new Error(`baseline stream closed after ${received} bytes`)) })
    stream.send(Uint8Array.of(1))
  })
  const run = done(totalBytes)
  await stream.close()
  return run
}

async function xferRun (client: XferProtocol, server: PeerId, cid: CID, digests: string[], verify = true): Promise<Run> {
  const done = measure()
  let next = 0
  let bytes = 0
  const worker = async (): Promise<void> => {
    while (next < chunkCount) {
      const index = next++
      const chunk = await client.requestChunk(server, cid, index)
      if (verify && createHash('sha256').update(chunk).digest('hex') !== digests[index]) throw new Error(`chunk ${index} failed verification`)
      bytes += chunk.byteLength
    }
  }
  await Promise.all(Array.from({ length: cfg.depth }, worker))
  return done(bytes)
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

interface ServerReady { addr: string, peer: string, manifest: Uint8Array, digests: string[], seederAddr: string, seededCid: string }

/**
 * The sending side: content in memory, the xfer server and the bare-stream pusher on one libp2p
 * node, and a ShoalNode seeding cfg.file.
 */
async function startServer (): Promise<ServerReady & { stop(): Promise<void> }> {
  const chunks: Uint8Array[] = []
  const digests: string[] = []
  for (let i = 0; i < chunkCount; i++) {
    const chunk = randomBytes(Math.min(chunkSize, totalBytes - i * chunkSize))
    chunks.push(chunk)
    digests.push(createHash('sha256').update(chunk).digest('hex'))
  }
  const manifest = new TextEncoder().encode(JSON.stringify({ chunkSize, digests }))
  const cid = CID.create(1, 0x71, await sha256.digest(manifest))
  const source: XferContentSource = {
    manifestBytes: c => c.equals(cid) ? manifest : undefined,
    bitfield: () => undefined,
    readChunk: async (_c, index) => {
      const chunk = chunks[index]
      if (chunk === undefined) throw new ShoalError('ERR_BAD_INDEX', `no chunk ${index}`)
      return chunk
    }
  }
  const node = await makeNode()
  const block = randomBytes(MiB)
  await node.handle(BASELINE_PROTOCOL, async (stream) => {
    // The client's first byte says "go"; then push totalBytes in 1 MiB writes, honouring drain.
    await new Promise<void>(resolve => { stream.addEventListener('message', () => { resolve() }, { once: true }) })
    for (let sent = 0; sent < totalBytes; sent += block.byteLength) {
      await drained(stream)
      stream.send(block)
    }
    await stream.close()
  })
  const server = new XferProtocol({ registrar: node, dialer: node, source }, xferInit())
  await server.start()
  const seeder = new ShoalNode({ dataDir: join(dirname(cfg.file), 'seeder'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  await seeder.start()
  const added = await seeder.add(cfg.file, { chunkSize })
  return {
    addr: node.getMultiaddrs()[0]!.toString(),
    peer: node.peerId.toString(),
    manifest,
    digests,
    seederAddr: seeder.multiaddrs[0]!,
    seededCid: added.cid,
    stop: async () => { await seeder.stop(); await server.stop(); await node.stop() }
  }
}

function xferInit (): XferInit {
  return cfg.pieceKiB === undefined ? {} : { pieceSize: cfg.pieceKiB * KiB }
}

/** One `get` by a fresh ShoalNode; the get() call is measured (the node's start is not counted). */
async function shoalGet (ready: ServerReady, round: number): Promise<Run> {
  const dir = join(dirname(cfg.file), `getter-${round}`)
  const node = new ShoalNode({ dataDir: join(dir, 'data'), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [ready.seederAddr] })
  try {
    await node.start()
    const done = measure()
    const result = await node.get(ready.seededCid, { out: join(dir, 'out') })
    const run = done(totalBytes)
    if (result.size !== totalBytes) throw new Error(`get returned ${result.size} bytes, expected ${totalBytes}`)
    return run
  } finally {
    await node.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

/** The pair figures (MiB/s, medians over the rounds), one line per round and a median summary. */
export interface PairResult { baseline: number, get: number, xfer: number, xferRaw: number }

/** Runs the single-pair part; prints its figures. */
export async function runPairBench (config: PairBenchConfig): Promise<PairResult> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-pair-'))
  const file = join(dir, 'payload.bin')
  configure({
    totalMiB: config.totalMiB,
    rounds: config.rounds,
    chunkKiB: config.chunkKiB ?? 1024,
    depth: config.depth ?? 16,
    pieceKiB: config.pieceKiB,
    split: config.split ?? true,
    file
  })
  const stops: Array<() => Promise<void>> = []
  try {
    await writeRandomFile(file, totalBytes)
    let ready: ServerReady
    if (cfg.split) {
      const worker = new Worker(new URL(import.meta.url), { workerData: cfg })
      stops.push(async () => { await worker.terminate() })
      ready = await new Promise<ServerReady>((resolve, reject) => {
        worker.once('message', resolve)
        worker.once('error', reject)
        worker.once('exit', code => { reject(new Error(`sender thread exited with ${code}`)) })
      })
    } else {
      const server = await startServer()
      stops.push(server.stop)
      ready = server
    }
    const { digests } = ready
    const cid = CID.create(1, 0x71, await sha256.digest(ready.manifest))
    const serverPeer = peerIdFromString(ready.peer)
    const clientNode = await makeNode()
    stops.unshift(async () => { await clientNode.stop() })
    const client = new XferProtocol({ registrar: clientNode, dialer: clientNode }, xferInit())
    await client.start()
    stops.unshift(async () => { await client.stop() })
    await clientNode.dial(multiaddr(ready.addr))

    console.log(`
single pair over unshaped loopback: ${cfg.totalMiB} MiB per run, chunk ${chunkSize / KiB} KiB, ${cfg.rounds} rounds, ${cfg.split ? 'sender and receiver in separate threads (one core each)' : 'one event loop'}`)
    // Warm-up: JIT, yamux window growth, allocations.
    await baseline(serverPeer, clientNode)
    await xferRun(client, serverPeer, cid, digests)
    // Rounds interleave the runs so background load hits them alike.
    const base: Run[] = []
    const got: Run[] = []
    const xf: Run[] = []
    const raw: Run[] = []
    const show = (run: Run): string => `${run.mibs.toFixed(1)} MiB/s (${run.cpuPerGiB.toFixed(2)} CPU-s/GiB)`
    for (let r = 0; r < cfg.rounds; r++) {
      base.push(await baseline(serverPeer, clientNode))
      got.push(await shoalGet(ready, r))
      xf.push(await xferRun(client, serverPeer, cid, digests))
      raw.push(await xferRun(client, serverPeer, cid, digests, false))
      console.log(`  round ${r + 1}: bare stream ${show(base[r]!)}   shoal get ${show(got[r]!)}   xfer ${show(xf[r]!)}   xfer unverified ${show(raw[r]!)}   ratio ${(got[r]!.mibs / base[r]!.mibs).toFixed(2)}`)
    }
    const res = { baseline: median(base.map(run => run.mibs)), get: median(got.map(run => run.mibs)), xfer: median(xf.map(run => run.mibs)), xferRaw: median(raw.map(run => run.mibs)) }
    const cpu = (runs: Run[]): string => `${median(runs.map(run => run.cpuPerGiB)).toFixed(2)} CPU-s/GiB`
    console.log(`  bare libp2p stream (TCP+shoalNoise+yamux):  ${res.baseline.toFixed(1)} MiB/s (median)   ${cpu(base)}`)
    console.log(`  shoal get (ShoalNode, verified, stored):    ${res.get.toFixed(1)} MiB/s   ratio ${(res.get / res.baseline).toFixed(2)} (goal >= 0.8)   ${cpu(got)}`)
    console.log(`  xfer protocol alone (sha256, no store):     ${res.xfer.toFixed(1)} MiB/s   ratio ${(res.xfer / res.baseline).toFixed(2)}   ${cpu(xf)}`)
    console.log(`  xfer protocol alone (no sha256, no store):  ${res.xferRaw.toFixed(1)} MiB/s   ratio ${(res.xferRaw / res.baseline).toFixed(2)}   ${cpu(raw)}`)
    return res
  } finally {
    for (const stop of stops) await stop().catch(() => {})
    await rm(dir, { recursive: true, force: true })
  }
}

if (isMainThread) {
  if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
    runPairBench({
      totalMiB: Number(process.env.SHOAL_BENCH_MB ?? 256),
      rounds: Number(process.env.SHOAL_BENCH_ROUNDS ?? 3),
      chunkKiB: Number(process.env.SHOAL_BENCH_CHUNK ?? 1024),
      depth: Number(process.env.SHOAL_BENCH_DEPTH ?? 16),
      pieceKiB: process.env.SHOAL_BENCH_PIECE === undefined ? undefined : Number(process.env.SHOAL_BENCH_PIECE),
      split: process.env.SHOAL_BENCH_SPLIT !== '0'
    }).catch(err => {
      console.error(err)
      process.exitCode = 1
    })
  }
} else {
  configure(workerData as Resolved)
  startServer().then(({ addr, peer, manifest, digests, seederAddr, seededCid }) => {
    parentPort?.postMessage({ addr, peer, manifest, digests, seederAddr, seededCid })
  }, err => { throw err })
}
