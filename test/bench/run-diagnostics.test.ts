import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { chunkBytesOf, NodeTrace, seederFigures, TRACE_ENV, uploadedBytes } from '../../scripts/lib/run-diagnostics.js'
import { ShoalProcess } from '../../scripts/lib/shoal-process.js'

const KiB = 1024
/** The checkout (dist/test/bench is three levels below it), so the child resolves node_modules. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

describe('bench run diagnostics', () => {
  it('reads the upload and manifest lines a node\'s tagged logger writes with the bench\'s DEBUG settings', async () => {
    // the real logger in a real process: the trace format is whatever weald prints, not what we assume
    const script = [
      // the node's own logger, as a shoal process writes: every message starts with its [tag]
      "import { nodeLogger } from './dist/src/net/node-logger.js'",
      "const l = nodeLogger('seeder'); const up = l.forComponent('shoal:node:upload'); const down = l.forComponent('shoal:node:download'); const other = l.forComponent('shoal:swarm')",
      "down('manifest of %s from %s: %d bytes (a connected peer, after %d ms)', 'bafyx', 'peerS', 3, 12)",
      "up('%s %s %d', 'download', 'peerA', 2); up('%s %s %d', 'download', 'peerB', 0); other('not traced')"
    ].join('\n')
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, ...TRACE_ENV }, stdio: ['ignore', 'pipe', 'pipe'] })
    const p = new ShoalProcess(child, 'logger')
    const trace = NodeTrace.of(p)
    const before = Date.now()
    assert.equal(await p.exited, 0)
    assert.deepEqual(trace.uploads.map(u => [u.peer, u.index]), [['peerA', 2], ['peerB', 0]])
    assert.ok(trace.manifestAtEpochMs !== undefined)
    for (const at of [trace.manifestAtEpochMs, ...trace.uploads.map(u => u.atEpochMs)]) {
      // wall-clock stamps of this run, not parse garbage (generous: the machine is shared)
      assert.ok(Math.abs(at - before) < 60_000, `stamp ${at} vs ${before}`)
    }
  })

  it('sizes the chunks of a one-file content, the last one short', () => {
    const bytesOf = chunkBytesOf(3 * 256 * KiB + 5, 4)
    assert.deepEqual([0, 1, 2, 3, 4].map(bytesOf), [256 * KiB, 256 * KiB, 256 * KiB, 5, 0])
    assert.equal(chunkBytesOf(10, 1)(0), 10)
  })

  it('counts first copies, duplicates, the tail and the seeder\'s share', () => {
    const size = 4 * 256 * KiB
    const up = (atEpochMs: number, index: number, peer = 'p'): { atEpochMs: number, peer: string, index: number } => ({ atEpochMs, peer, index })
    const uploads = [up(1000, 0), up(1500, 1), up(2000, 0, 'q'), up(3000, 2), up(4000, 3), up(9000, 3, 'late')]
    const f = seederFigures(uploads, { startEpochMs: 0, tLastMs: 5000, uploadRate: 256 * KiB, size, chunks: 4, receivers: 2 })
    assert.equal(f.chunksSent, 4)
    assert.equal(f.duplicateBytes, 256 * KiB, 'chunk 0 twice; the upload after T_last does not count')
    assert.equal(f.tailMs, 1000)
    // 4 first copies at 1 chunk/s over 5 s
    assert.equal(f.uplinkUse, 4 / 5)
    assert.equal(f.fromSeeder, 5 / 8)
    const partial = seederFigures(uploads.slice(0, 2), { startEpochMs: 0, tLastMs: 5000, uploadRate: 256 * KiB, size, chunks: 4, receivers: 2 })
    assert.equal(partial.chunksSent, 2)
    assert.ok(!Number.isFinite(partial.tailMs), 'no tail while some chunk never left the seeder')
    assert.equal(uploadedBytes(uploads, 2000, chunkBytesOf(size, 4)), 3 * 256 * KiB)
  })
})
