import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DownloadRate } from '../../src/swarm/download-rate.js'

describe('DownloadRate', () => {
  it('reads a steady rate, and falls towards 0 once deliveries stop', () => {
    const rate = new DownloadRate(1_000)
    // 100 KB every 100 ms for 10 s: 1 MB/s
    for (let t = 0; t <= 10_000; t += 100) rate.add(100_000, t)
    const steady = rate.at(10_000)
    assert.ok(Math.abs(steady - 1_000_000) / 1_000_000 < 0.06, `~1 MB/s, read ${steady}`)
    assert.ok(rate.at(11_000) < steady * 0.4, 'a second later it has decayed by e')
    assert.ok(rate.at(20_000) < 100, 'ten windows later it is ~0')
  })

  it('is 0 before anything arrived and refuses a window that is not positive', () => {
    assert.equal(new DownloadRate(500).at(12_345), 0)
    assert.throws(() => new DownloadRate(0), RangeError)
  })
})
