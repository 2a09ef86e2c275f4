// Network-layer benchmark: 1 bootstrap + 6 nodes in one process on loopback TCP.
// Measures (1) provide() on one node until every other node's findProviders() returns it, and
// (2) announceHave() on one node until every other node's availability view has the chunk.
// Prints figures; asserts nothing. Run: node dist/scripts/bench-net.js [runs]
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { ShoalNetwork, netConstants } from '../src/net/index.js'

const RUNS = Number(process.argv[2] ?? 5)
const NODES = 6
const CHUNKS = 1024

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

async function main (): Promise<void> {
  const dirs: string[] = []
  const nets: ShoalNetwork[] = []
  const make = async (bootstrap: string[]): Promise<ShoalNetwork> => {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-net-'))
    dirs.push(dir)
    const net = new ShoalNetwork({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap })
    nets.push(net)
    return net
  }
  try {
    const boot = await make([])
    await boot.start()
    const nodes: ShoalNetwork[] = []
    for (let i = 0; i < NODES; i++) nodes.push(await make([boot.multiaddrs[0]!.toString()]))
    const t0 = performance.now()
    await Promise.all(nodes.map(async n => n.start()))
    while (boot.connectedPeers().length < NODES) await new Promise(resolve => setTimeout(resolve, 20))
    console.log(`setup: ${NODES} nodes started and connected to the bootstrap node in ${(performance.now() - t0).toFixed(0)} ms`)
    // Let the DHT routing tables settle (identify + routing-table updates) before timing.
    await new Promise(resolve => setTimeout(resolve, 1_000))

    const provideMs: number[] = []
    const allFoundMs: number[] = []
    console.log('\nprovide -> found by all other nodes')
    for (let run = 0; run < RUNS; run++) {
      const cid = CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(`bench-${run}-${Date.now()}`)))
      const provider = nodes[run % NODES]!
      const start = performance.now()
      const stored = await provider.provide(cid)
      const provided = performance.now() - start
      const found = await Promise.all(nodes.filter(n => n !== provider).map(async n => {
        for (let attempt = 0; attempt < 50; attempt++) {
          const got = await n.findProviders(cid, { timeoutMs: 5_000, maxProviders: 1 })
          if (got.some(p => p.id.equals(provider.peerId))) return performance.now() - start
        }
        return Number.NaN
      }))
      const all = Math.max(...found)
      provideMs.push(provided)
      allFoundMs.push(all)
      console.log(`  run ${run + 1}: provide() ${provided.toFixed(1)} ms (stored on ${stored} servers), all ${found.length} found after ${all.toFixed(1)} ms (per node: ${found.map(f => f.toFixed(0)).join(', ')})`)
    }
    console.log(`  median: provide() ${median(provideMs).toFixed(1)} ms, provide->all found ${median(allFoundMs).toFixed(1)} ms`)

    console.log(`\nHAVE -> every view updated (HAVE batching delay ${netConstants.HAVE_FLUSH_DELAY_MS} ms included; flush() variant skips it)`)
    const cid = CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(`bench-have-${Date.now()}`))).toString()
    const announcers = nodes.map(n => n.joinContent(cid, CHUNKS))
    boot.joinContent(cid, CHUNKS)
    while (!nodes.every(n => n.libp2p.services.pubsub.getSubscribers(announcers[0]!.topic).length >= NODES - 1)) {
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    await new Promise(resolve => setTimeout(resolve, 1_500)) // mesh grafting happens on heartbeats
    const batched: number[] = []
    const immediate: number[] = []
    for (let run = 0; run < RUNS * 2; run++) {
      const flushNow = run % 2 === 1
      const origin = announcers[run % NODES]!
      const originId = nodes[run % NODES]!.peerId.toString()
      const index = run
      const others = announcers.filter(a => a !== origin)
      const start = performance.now()
      const times = others.map(async a => await new Promise<number>(resolve => {
        const listening = new AbortController()
        a.addEventListener('have', ({ detail: { peer, indexes } }) => {
          if (peer === originId && indexes.includes(index)) { listening.abort(); resolve(performance.now() - start) }
        }, { signal: listening.signal })
        setTimeout(() => { listening.abort(); resolve(Number.NaN) }, 5_000)
      }))
      origin.announceHave(index)
      if (flushNow) await origin.flush()
      const got = await Promise.all(times)
      const all = Math.max(...got);
      (flushNow ? immediate : batched).push(all)
      console.log(`  run ${run + 1} (${flushNow ? 'flush()' : 'batched'}): all ${got.length} views updated after ${all.toFixed(1)} ms (per node: ${got.map(g => g.toFixed(1)).join(', ')})`)
    }
    console.log(`  median: batched ${median(batched).toFixed(1)} ms, immediate flush ${median(immediate).toFixed(1)} ms`)
  } finally {
    await Promise.all(nets.map(async n => n.stop().catch(() => {})))
    await Promise.all(dirs.map(async d => rm(d, { recursive: true, force: true })))
  }
}

await main()
