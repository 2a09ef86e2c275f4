// Every node logs through its own logger: with two nodes in one process and DEBUG=shoal:*, each line
// names the node that wrote it, libp2p's own lines included.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { LOG_TAG_LENGTH } from '../../src/node/constants.js'
import { Harness } from './helpers.js'

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'two-nodes.js')

async function run (dir: string): Promise<{ stdout: string, stderr: string, code: number | null }> {
  const child = spawn(process.execPath, [FIXTURE, dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DEBUG: 'shoal:*,libp2p:kad-dht', DEBUG_COLORS: '0' }
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, 90_000)
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  clearTimeout(timer)
  return { stdout, stderr, code }
}

describe('a logger per node', { timeout: 120_000 }, () => {
  it('tags every line two nodes in one process write with the node that wrote it', async () => {
    const h = new Harness()
    try {
      const { stdout, stderr, code } = await run(await h.tempDir())
      assert.equal(code, 0, stderr.slice(-2000))
      const ids = JSON.parse(stdout.trim()) as { a: string, b: string }
      const tags = [ids.a, ids.b].map(id => `[${id.slice(-LOG_TAG_LENGTH)}]`)
      const lines = stderr.split('\n').filter(l => / (shoal|libp2p):/.test(l))
      for (const tag of tags) {
        const own = lines.filter(l => l.includes(tag))
        const namespaces = new Set(own.map(l => / ((?:shoal|libp2p):[\w:-]+) /.exec(l)?.[1]))
        for (const ns of ['shoal:node', 'shoal:net:network', 'shoal:net:have-announcer', 'libp2p:kad-dht']) {
          assert.ok(namespaces.has(ns), `no ${ns} line tagged ${tag}; tagged namespaces: ${[...namespaces].join(', ')}`)
        }
      }
      // a line names one node, never both
      assert.equal(lines.filter(l => tags.every(t => l.includes(t))).length, 0)
      // the receiver's download lines all carry its tag
      const download = lines.filter(l => l.includes(' shoal:node:download '))
      assert.ok(download.length > 0)
      for (const line of download) assert.ok(line.includes(tags[1]!), line)
      console.log(`# ${lines.length} log lines, ${lines.filter(l => tags.some(t => l.includes(t))).length} tagged`)
    } finally {
      await h.cleanup()
    }
  })
})
