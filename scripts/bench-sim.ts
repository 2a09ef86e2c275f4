/**
 * A quick in-process swarm for tuning (not part of `npm run bench`): 1 seeder + N receivers as
 * ShoalNodes on loopback, each capped by shoal's own token buckets (uploadLimit/downloadLimit), so a
 * run takes ~25 s and needs no root. It prints each receiver's completion and first-chunk times,
 * T_min, the swarm efficiency, the seeder's egress ratio and what each receiver uploaded, plus how
 * often the seeder sent each chunk. The real figures come from `node dist/scripts/bench.js swarm`.
 *
 *   N=8 MB=32 RATE=2400000 CHUNK=1048576 node dist/scripts/bench-sim.js
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ShoalNode } from '../src/node/shoal-node.js'
import type { ShoalInit } from '../src/node/types.js'

const MiB = 1024 * 1024

async function main (): Promise<void> {
  const n = Number(process.env.N ?? 8)
  const mb = Number(process.env.MB ?? 32)
  const rate = Number(process.env.RATE ?? 2_400_000)
  const chunk = Number(process.env.CHUNK ?? MiB)
  if (process.env.SUPER !== undefined) throw new Error('SUPER was removed with --super-seed in session 22: every seeder uses the first-copy policy (docs/decisions.md); unset it')
  const work = await mkdtemp(join(tmpdir(), 'shoal-sim-'))
  const make = (name: string, extra: Partial<ShoalInit> = {}): ShoalNode =>
    new ShoalNode({ dataDir: join(work, name), listen: ['/ip4/127.0.0.1/tcp/0'], chunkSize: chunk, ...extra })
  const nodes: ShoalNode[] = []
  try {
    const boot = make('b')
    nodes.push(boot)
    await boot.start()
    const seeder = make('s', { bootstrap: boot.multiaddrs, uploadLimit: rate })
    nodes.push(seeder)
    await seeder.start()
    await writeFile(join(work, 'f.bin'), randomBytes(mb * MiB))
    const added = await seeder.add(join(work, 'f.bin'))
    const receivers = Array.from({ length: n }, (_, i) => make(`r${i}`, { bootstrap: boot.multiaddrs, uploadLimit: rate, downloadLimit: rate }))
    nodes.push(...receivers)
    await Promise.all(receivers.map(async r => { await r.start() }))
    const t0 = Date.now()
    if (process.env.DEBUG !== undefined) console.error(`${new Date(t0).toISOString()} sim: gets start`)
    const first: number[] = []
    const times = await Promise.all(receivers.map(async (r, i) => {
      await r.get(added.cid, {
        out: join(work, `o${i}`),
        onProgress: p => { if (p.have > 0 && first[i] === undefined) first[i] = Date.now() - t0 }
      })
      return Date.now() - t0
    }))
    const file = mb * MiB
    const tMin = Math.max(file / rate, n * file / (rate + n * rate))
    const s = (ms: number | undefined): string => ms === undefined ? '-' : (ms / 1000).toFixed(1)
    console.log(`N=${n} ${mb} MiB, ${(rate / 1e6).toFixed(2)} MB/s per host, chunk ${chunk / 1024} KiB`)
    console.log('times', times.map(s).join(' '), '| first', first.map(s).join(' '))
    console.log('T_min', tMin.toFixed(1), 'eff', (tMin * 1000 / Math.max(...times)).toFixed(2),
      'seeder egress', ((await seeder.status()).uploadedBytes / file).toFixed(2))
    const ups = await Promise.all(receivers.map(async r => (await r.status()).uploadedBytes))
    console.log('receiver up MiB', ups.map(b => (b / MiB).toFixed(0)).join(' '),
      `(${(ups.reduce((a, b) => a + b, 0) / (n * rate * Math.max(...times) / 1000) * 100).toFixed(0)}% of capacity)`)
  } finally {
    await Promise.all(nodes.map(async node => { await node.stop() }))
    await rm(work, { recursive: true, force: true })
  }
}

await main()
