import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TokenBucket } from '../../src/swarm/token-bucket.js'

describe('TokenBucket', () => {
  it('treats rate 0 and Infinity as unlimited', async () => {
    for (const rate of [0, Infinity]) {
      const bucket = new TokenBucket({ rate })
      assert.equal(bucket.unlimited, true)
      const t0 = performance.now()
      for (let i = 0; i < 1000; i++) await bucket.take(1 << 20)
      assert.ok(performance.now() - t0 < 1000)
    }
  })

  it('limits throughput to roughly the rate (printed; bounds are generous)', async () => {
    const rate = 200_000
    const bucket = new TokenBucket({ rate, burst: 10_000 })
    const t0 = performance.now()
    let bytes = 0
    // The first 10 KB are the burst; the next 50 KB need ~0.25 s at 200 KB/s.
    await bucket.take(10_000)
    assert.ok(performance.now() - t0 < 50, 'a new bucket starts full')
    for (let i = 0; i < 5; i++) { await bucket.take(10_000); bytes += 10_000 }
    const s = (performance.now() - t0) / 1000
    console.log(`# token bucket: ${bytes} B in ${(s * 1000).toFixed(0)} ms = ${(bytes / s / 1000).toFixed(0)} kB/s (limit ${rate / 1000} kB/s)`)
    assert.ok(s > 0.15, `too fast: ${s} s`)
    assert.ok(s < 2, `too slow: ${s} s`)
  })

  it('serves waiters in FIFO order, big ones not starved by small ones', async () => {
    const bucket = new TokenBucket({ rate: 100_000, burst: 1_000 })
    await bucket.take(1_000) // empty the bucket
    const order: string[] = []
    const all = [
      bucket.take(5_000).then(() => order.push('big')),
      bucket.take(100).then(() => order.push('s1')),
      bucket.take(100).then(() => order.push('s2'))
    ]
    await Promise.all(all)
    assert.deepEqual(order, ['big', 's1', 's2'])
  })

  it('rejects an aborted waiter and lets the next one go', async () => {
    const bucket = new TokenBucket({ rate: 10_000, burst: 1_000 })
    await bucket.take(1_000)
    const controller = new AbortController()
    const first = bucket.take(1_000, { signal: controller.signal })
    const second = bucket.take(100)
    controller.abort()
    await assert.rejects(first, (err: Error & { code?: string }) => err.code === 'ERR_ABORTED')
    await second
    assert.equal(bucket.waiting, 0)
    await assert.rejects(bucket.take(1, { signal: controller.signal }), (err: Error & { code?: string }) => err.code === 'ERR_ABORTED')
  })

  it('can change its rate while waiters queue', async () => {
    const bucket = new TokenBucket({ rate: 10, burst: 10 })
    await bucket.take(10)
    const waiting = bucket.take(10_000)
    bucket.setRate(0)
    await waiting
    assert.equal(bucket.unlimited, true)
  })
})
