import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { Output } from '../../src/cli/output.js'
import { ProgressReporter } from '../../src/cli/progress-reporter.js'
import type { Progress } from '../../src/node/types.js'

class Capture extends Writable {
  text = ''
  constructor (readonly isTTY: boolean) { super() }
  override _write (chunk: Buffer, _enc: string, done: () => void): void { this.text += chunk.toString(); done() }
}

const MiB = 1024 * 1024
const progress = (have: number): Progress => ({
  cid: 'bafyx', have, total: 8, bytes: have * MiB, totalBytes: 8 * MiB, rateBps: 2 * MiB, peers: 3, etaSeconds: (8 - have) / 2
})

describe('ProgressReporter', () => {
  it('redraws one line in place on a TTY: bar, percent, bytes, rate, peers, ETA', () => {
    const tty = new Capture(true)
    const reporter = new ProgressReporter(new Output(), tty)
    reporter.update(progress(2), true)
    reporter.update(progress(6), true)
    reporter.finish()
    const frames = tty.text.split('\r\x1b[2K').filter(f => f !== '')
    assert.equal(frames.length, 2)
    assert.equal(frames[0], '[#######---------------------]  25.0%  2.0 MiB/8.0 MiB  2.0 MiB/s  3 peers  ETA 3s')
    assert.equal(frames[1], '[#####################-------]  75.0%  6.0 MiB/8.0 MiB  2.0 MiB/s  3 peers  ETA 1s\n')
  })

  it('writes plain lines, at most one per interval, when not a TTY', () => {
    const plain = new Capture(false)
    const reporter = new ProgressReporter(new Output(), plain)
    reporter.update(progress(1))
    reporter.update(progress(2)) // within the interval: dropped
    reporter.update(progress(8), true)
    reporter.finish()
    assert.deepEqual(plain.text.split('\n'), [
      ' 12.5%  1.0 MiB/8.0 MiB  2.0 MiB/s  3 peers  ETA 4s',
      '100.0%  8.0 MiB/8.0 MiB  2.0 MiB/s  3 peers  ETA 0s',
      ''
    ])
    assert.ok(!plain.text.includes('\x1b'), 'no escape codes in logs')
  })

  it('shows the first update with a chunk at once, even within the interval (benchmarks time it)', () => {
    const plain = new Capture(false)
    const reporter = new ProgressReporter(new Output(), plain)
    reporter.update(progress(0))
    reporter.update(progress(1))
    reporter.update(progress(2)) // within the interval: dropped
    assert.deepEqual(plain.text.split('\n').map(line => line.trim().split(' ')[0]), ['0.0%', '12.5%', ''])
  })

  it('prints nothing with --quiet, even on a TTY', () => {
    const tty = new Capture(true)
    const reporter = new ProgressReporter(new Output({ quiet: true }), tty)
    reporter.update(progress(3), true)
    reporter.finish()
    assert.equal(tty.text, '')
  })

  it('shows -- for an unknown ETA and 100% for empty content', () => {
    const plain = new Capture(false)
    const reporter = new ProgressReporter(new Output(), plain)
    reporter.update({ ...progress(0), rateBps: 0, etaSeconds: undefined }, true)
    reporter.update({ cid: 'bafyx', have: 0, total: 0, bytes: 0, totalBytes: 0, rateBps: 0, peers: 0 }, true)
    const [first, second] = plain.text.split('\n')
    assert.match(first!, /ETA --$/)
    assert.match(second!, /^100\.0%/)
  })
})
