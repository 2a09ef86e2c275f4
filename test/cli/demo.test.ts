// The issue's "done when": after `shoal demo`, the receivers' summary shows the share of bytes that
// came from peers, and what they got from the seeder matches the seeder's own egress figure.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runShoal } from './helpers.js'

// chunks the seeder sent that a receiver cancelled in endgame count as egress but were never
// received; a few of 128 chunks per receiver
const TOLERANCE = 0.15

describe('shoal demo', { timeout: 120_000 }, () => {
  it('reports the receivers\' share from peers, matching the seeder\'s egress', async () => {
    const r = await runShoal(['demo', '--receivers', '3', '--size', '8M', '--seeder-limit', '2M', '--chunk-size', '64k', '--json'], { timeoutMs: 100_000 })
    assert.equal(r.code, 0, r.stderr)
    const summary = r.json().find(l => l.type === 'result') as unknown as { seederEgressRatio: number, receiversFromOriginRatio: number, receiversPeerShare: number, receivers: number }
    console.log(`# seeder egress ${summary.seederEgressRatio.toFixed(3)} x, receivers got ${summary.receiversFromOriginRatio.toFixed(3)} x from the seeder, ${(100 * summary.receiversPeerShare).toFixed(1)}% from peers`)
    assert.ok(summary.receiversPeerShare > 0, 'the receivers traded among themselves')
    assert.ok(Math.abs(summary.seederEgressRatio - summary.receiversFromOriginRatio) <= TOLERANCE,
      `seeder egress ${summary.seederEgressRatio} vs the receivers' ${summary.receiversFromOriginRatio} from it`)
    // the share from peers is the rest of what the receivers got: N copies minus the seeder's part
    const expectedShare = 1 - summary.receiversFromOriginRatio / summary.receivers
    assert.ok(Math.abs(summary.receiversPeerShare - expectedShare) < 0.01)
  })
})
