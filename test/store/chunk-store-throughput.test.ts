import assert from 'node:assert/strict'
import { randomBytes, createHash } from 'node:crypto'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ChunkStore } from '../../src/store/index.js'
import type { StoreLayout } from '../../src/store/index.js'
import { TempDirs } from './helpers.js'

// Prints write throughput; never asserts on timing. SHOAL_STORE_BENCH_MIB overrides the size.
const totalMiB = Number(process.env.SHOAL_STORE_BENCH_MIB ?? 256)
const chunkSize = 1024 * 1024
const temp = new TempDirs()
after(async () => { await temp.cleanup() })

describe('ChunkStore throughput', () => {
  it(`writes ${totalMiB} MiB of 1 MiB chunks`, async () => {
    const base = await temp.make()
    // A pool of distinct chunks reused cyclically keeps memory small while every digest is real.
    const pool = Array.from({ length: 16 }, () => new Uint8Array(randomBytes(chunkSize)))
    const digests = pool.map(c => createHash('sha256').update(c).digest())
    const count = totalMiB
    const layout: StoreLayout = {
      chunkSize,
      directories: [],
      files: [{ path: 'bench.bin', size: count * chunkSize, chunks: Array.from({ length: count }, (_, i) => digests[i % pool.length]!) }]
    }

    // Baseline: plain sequential writes with one fsync at the end, same disk.
    const raw = await open(join(base, 'raw.bin'), 'w')
    let start = performance.now()
    for (let i = 0; i < count; i++) await raw.write(pool[i % pool.length]!, 0, chunkSize, i * chunkSize)
    await raw.sync()
    const rawMs = performance.now() - start
    await raw.close()

    const mibps = (ms: number): string => (totalMiB / (ms / 1000)).toFixed(0)
    console.log(`# raw sequential write + 1 fsync: ${totalMiB} MiB in ${rawMs.toFixed(0)} ms = ${mibps(rawMs)} MiB/s`)

    start = performance.now()
    for (let i = 0; i < count; i++) createHash('sha256').update(pool[i % pool.length]!).digest()
    const hashMs = performance.now() - start
    console.log(`# sha-256 alone: ${hashMs.toFixed(0)} ms = ${mibps(hashMs)} MiB/s`)

    for (const flushEveryChunks of [64, 8, 1]) {
      const dir = join(base, `run-${flushEveryChunks}`)
      const store = await ChunkStore.open({ layout, root: join(dir, 'out'), stateDir: join(dir, 'state'), mode: 'download', flushEveryChunks })
      start = performance.now()
      const inFlight = 4
      let next = 0
      await Promise.all(Array.from({ length: inFlight }, async () => {
        while (next < count) {
          const i = next++
          await store.write(i, pool[i % pool.length]!)
        }
      }))
      await store.close()
      const storeMs = performance.now() - start
      assert.equal(store.have.count, count)
      console.log(`# ChunkStore.write: ${totalMiB} MiB, 1 MiB chunks, ${inFlight} in flight, flush every ${flushEveryChunks} chunks ` +
        `(verify + write + fdatasync + journal fsync): ${storeMs.toFixed(0)} ms = ${mibps(storeMs)} MiB/s`)
      await rm(dir, { recursive: true, force: true })
    }
  })
})
