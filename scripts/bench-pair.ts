/**
 * Single-transfer throughput of /shoal/xfer/1.0.0 against a bare libp2p stream, two nodes on
 * loopback, unshaped, same process. Prints, never asserts.
 *
 *   SHOAL_BENCH_MB      megabytes (MiB) moved per run          (default 256)
 *   SHOAL_BENCH_CHUNK   chunk size in KiB                     (default 1024)
 *   SHOAL_BENCH_DEPTH   requests in flight                    (default 16)
 *   SHOAL_BENCH_PIECE   DATA piece size in KiB                (default: the protocol default)
 *   SHOAL_BENCH_ROUNDS  measured rounds of each               (default 3)
 *   SHOAL_BENCH_SPLIT   1: the sending node runs in a worker thread (default 0: one event loop)
 *
 * With SPLIT=0 both ends share one event loop, so the receiver's sha256 competes with the sender's
 * encryption and decryption on one CPU: absolute numbers are a floor, the ratio is what matters.
 * SPLIT=1 gives each node its own thread, closer to two hosts (this machine has 2 cores).
 */
import { createHash, randomBytes } from 'node:crypto'
import { Worker, isMainThread, parentPort } from 'node:worker_threads'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { XferProtocol } from '../src/net/xfer/index.js'
import { ShoalError } from '../src/util/shoal-error.js'
import type { XferContentSource, XferInit } from '../src/net/xfer/index.js'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'

const KiB = 1024
const MiB = 1024 * KiB
const BASELINE_PROTOCOL = '/shoal/bench-push/1.0.0'

const totalMiB = Number(process.env.SHOAL_BENCH_MB ?? 256)
const chunkSize = Number(process.env.SHOAL_BENCH_CHUNK ?? 1024) * KiB
const depth = Number(process.env.SHOAL_BENCH_DEPTH ?? 16)
const rounds = Number(process.env.SHOAL_BENCH_ROUNDS ?? 3)
const pieceKiB = process.env.SHOAL_BENCH_PIECE
const split = process.env.SHOAL_BENCH_SPLIT === '1'
const totalBytes = totalMiB * MiB
const chunkCount = Math.ceil(totalBytes / chunkSize)

async function makeNode (): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
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

async function baseline (server: PeerId, client: Libp2p): Promise<number> {
  const stream = await client.dialProtocol(server, BASELINE_PROTOCOL)
  const started = performance.now()
  let received = 0
  await new Promise<void>((resolve, reject) => {
    stream.addEventListener('message', evt => {
      received += evt.data.byteLength
      if (received >= totalBytes) resolve()
    })
    stream.addEventListener('close', () => { if (received < totalBytes) reject(new Error(`baseline stream closed after ${received} bytes`)) })
    stream.send(Uint8Array.of(1))
  })
  const seconds = (performance.now() - started) / 1000
  await stream.close()
  return totalBytes / MiB / seconds
}

async function xferRun (client: XferProtocol, server: PeerId, cid: CID, digests: string[], verify = true): Promise<number> {
  const started = performance.now()
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
  await Promise.all(Array.from({ length: depth }, worker))
  const seconds = (performance.now() - started) / 1000
  return bytes / MiB / seconds
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

interface ServerReady { addr: string, peer: string, manifest: Uint8Array, digests: string[] }

/** The sending side: content in memory, the xfer server and the bare-stream pusher on one node. */
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
  return {
    addr: node.getMultiaddrs()[0]!.toString(),
    peer: node.peerId.toString(),
    manifest,
    digests,
    stop: async () => { await server.stop(); await node.stop() }
  }
}

function xferInit (): XferInit {
  return pieceKiB === undefined ? {} : { pieceSize: Number(pieceKiB) * KiB }
}

async function main (): Promise<void> {
  let ready: ServerReady
  let stopServer: () => Promise<void>
  if (split) {
    const worker = new Worker(new URL(import.meta.url), { env: process.env })
    ready = await new Promise<ServerReady>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    stopServer = async () => { await worker.terminate() }
  } else {
    const server = await startServer()
    ready = server
    stopServer = server.stop
  }
  const { digests } = ready
  const cid = CID.create(1, 0x71, await sha256.digest(ready.manifest))
  const serverPeer = peerIdFromString(ready.peer)
  const clientNode = await makeNode()
  const client = new XferProtocol({ registrar: clientNode, dialer: clientNode }, xferInit())
  await client.start()
  await clientNode.dial(multiaddr(ready.addr))

  console.log(`bench-pair: ${totalMiB} MiB per run, chunk ${chunkSize / KiB} KiB, depth ${depth}, piece ${pieceKiB ?? 'default'} KiB, ${rounds} rounds, ${split ? 'sender in a worker thread' : 'one event loop'}, node ${process.version}`)
  // Warm-up: JIT, yamux window growth, allocations.
  await baseline(serverPeer, clientNode)
  await xferRun(client, serverPeer, cid, digests)
  // Rounds interleave the three runs so background load hits them alike.
  const base: number[] = []
  const xf: number[] = []
  const raw: number[] = []
  for (let r = 0; r < rounds; r++) {
    base.push(await baseline(serverPeer, clientNode))
    xf.push(await xferRun(client, serverPeer, cid, digests))
    raw.push(await xferRun(client, serverPeer, cid, digests, false))
    console.log(`  round ${r + 1}: baseline ${base[r]!.toFixed(1)} MiB/s   xfer ${xf[r]!.toFixed(1)} MiB/s (ratio ${(xf[r]! / base[r]!).toFixed(2)})   xfer unverified ${raw[r]!.toFixed(1)} MiB/s`)
  }
  const b = median(base)
  const x = median(xf)
  const u = median(raw)
  console.log(`baseline (bare stream, TCP+Noise+yamux): ${b.toFixed(1)} MiB/s (median)`)
  console.log(`xfer (sha256-verified chunks):           ${x.toFixed(1)} MiB/s (median)`)
  console.log(`xfer without sha256 (protocol alone):    ${u.toFixed(1)} MiB/s (median)`)
  console.log(`ratio xfer/baseline:                     ${(x / b).toFixed(2)}   (protocol alone: ${(u / b).toFixed(2)})`)

  await client.stop()
  await clientNode.stop()
  await stopServer()
}

if (isMainThread) {
  main().catch(err => {
    console.error(err)
    process.exitCode = 1
  })
} else {
  startServer().then(({ addr, peer, manifest, digests }) => {
    parentPort?.postMessage({ addr, peer, manifest, digests })
  }, err => { throw err })
}
