import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatReport, runFuzz } from '../../scripts/fuzz.js'

describe('scripts/fuzz.ts core', () => {
  it('runs 2,000 inputs over the three decoders without a crash, deterministically', (t) => {
    const report = runFuzz({ seed: 42, iterations: 2_000 })
    t.diagnostic(formatReport(report, 42))
    assert.deepEqual(report.crashes.map(c => `${c.target}: ${c.why}`), [])
    assert.deepEqual(report.targets.map(r => r.target), ['manifest', 'announce', 'xfer-frame'])
    for (const r of report.targets) {
      assert.ok(r.inputs >= 666, `${r.target} got ${r.inputs} inputs`)
      assert.ok(r.accepted > 0 && r.rejected > 0, `${r.target}: ${r.accepted} accepted, ${r.rejected} rejected`)
      assert.equal(r.accepted + r.rejected, r.inputs)
    }
    const again = runFuzz({ seed: 42, iterations: 2_000 })
    assert.deepEqual(again.targets.map(r => [r.accepted, r.rejected]), report.targets.map(r => [r.accepted, r.rejected]))
  })
})
