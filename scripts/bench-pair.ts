/**
 * Single-transfer throughput of /shoal/xfer/1.0.0 against a bare libp2p stream, two nodes on
 * loopback, unshaped, same process. Prints, never asserts.
 *
 *   SHOAL_BENCH_MB      megabytes (MiB) moved per run          (default 256)
 *   SHOAL_BENCH_CHUNK   chunk size in KiB                     (default 1024)
 *   SHOAL_BENCH_DEPTH   requests in flight                    (default 16)
 *   SHOAL_BENCH_PIECE   DATA piece size in KiB                (default: the protocol default)
 *   SHOAL_BENCH_ROUNDS  measured rounds of each               (default 3)
 *
 * Both ends run in this one process on one event loop, so every byte is encrypted and decrypted
 * by the same CPU: absolute numbers are a floor, the ratio is what matters.
 */
import { createHash, randomBytes } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { XferProtocol } from '../src/net/xfer/index.js'
import { ShoalError } from '../src/util/shoal-error.js'
import type { XferContentSource, XferInit } from '../src/net/xfer/index.js'
import type { Libp2p, Stream } from '@libp2p/interface'

const KiB = 1024
const MiB = 1024 * KiB
const BASELINE_PROTOCOL = '/shoal/bench-push/1.0.0'

const totalMiB = Number(process.env.SHOAL_BENCH_MB ?? 256)
const chunkSize = Number(process.env.SHOAL_BENCH_CHUNK ?? 1024) * KiB
const depth = Number(process.env.SHOAL_BENCH_DEPTH ?? 16)
const rounds = Number(process.env.SHOAL_BENCH_ROUNDS ?? 3)
const pieceKiB = process.env.SHOAL_BENCH_PIECE
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

async function baseline (server: Libp2p, client: Libp2p): Promise<number> {
  const stream = await client.dialProtocol(server.peerId, BASELINE_PROTOCOL)
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

async function xferRun (client: XferProtocol, server: Libp2p, cid: CID, digests: string[], verify = true): Promise<number> {
  const started = performance.now()
  let next = 0
  let bytes = 0
  const worker = async (): Promise<void> => {
    while (next < chunkCount) {
      const index = next++
      const chunk = await client.requestChunk(server.peerId, cid, index)
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

async function main (): Promise<void> {
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

  const serverNode = await makeNode()
  const clientNode = await makeNode()
  const block = randomBytes(MiB)
  await serverNode.handle(BASELINE_PROTOCOL, async (stream) => {
    // The client's first byte says "go"; then push totalBytes in 1 MiB writes, honouring drain.
    await new Promise<void>(resolve => { stream.addEventListener('message', () => { resolve() }, { once: true }) })
    for (let sent = 0; sent < totalBytes; sent += block.byteLength) {
      await drained(stream)
      stream.send(block)
    }
    await stream.close()
  })
  const init: XferInit = pieceKiB === undefined ? {} : { pieceSize: Number(pieceKiB) * KiB }
  const server = new XferProtocol({ registrar: serverNode, dialer: serverNode, source }, init)
  const client = new XferProtocol({ registrar: clientNode, dialer: clientNode }, init)
  await server.start()
  await client.start()
  await clientNode.dial(serverNode.getMultiaddrs()[0]!)

  console.log(`bench-pair: ${totalMiB} MiB per run, chunk ${chunkSize / KiB} KiB, depth ${depth}, piece ${pieceKiB ?? 'default'} KiB, ${rounds} rounds, node ${process.version}`)
  // Warm-up: JIT, yamux window growth, allocations.
  await baseline(serverNode, clientNode)
  await xferRun(client, serverNode, cid, digests)

  // Rounds interleave the three runs so background load hits them alike.
  const base: number[] = []
  const xf: number[] = []
  const raw: number[] = []
  for (let r = 0; r < rounds; r++) {
    base.push(await baseline(serverNode, clientNode))
    xf.push(await xferRun(client, serverNode, cid, digests))
    raw.push(await xferRun(client, serverNode, cid, digests, false))
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
  await server.stop()
  await clientNode.stop()
  await serverNode.stop()
}

main().catch(err => {
  console.error(err)
  process.exitCode = 1
})
