import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { after, describe, it } from 'node:test'
import { TempDirs } from './helpers.js'

const temp = new TempDirs()
after(async () => { await temp.cleanup() })

const writer = fileURLToPath(new URL('./fixtures/log-writer.js', import.meta.url))

/** Runs the log writer with DEBUG set and returns what it wrote to stderr. */
async function logsOf (dir: string, debug: string): Promise<string> {
  const child = spawn(process.execPath, [writer, dir], { env: { ...process.env, DEBUG: debug, DEBUG_COLORS: '0' }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (data: Buffer) => { stderr += data.toString() })
  const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const code = await new Promise(resolve => child.on('exit', resolve))
  clearTimeout(deadline)
  assert.equal(code, 0, stderr)
  return stderr
}

describe('store and content logging', () => {
  it('logs through the logger it is given, and through the shoal:* loggers without one', async () => {
    const stderr = await logsOf(await temp.make(), 'node-a:shoal:*,node-b:shoal:*,shoal:*')
    const lines = stderr.split('\n')
    const has = (pattern: RegExp): boolean => lines.some(line => pattern.test(line))
    assert.ok(has(/node-a:shoal:store opened \S+\/with for download/), stderr)
    assert.ok(has(/node-a:shoal:store closed \S+\/with$/), stderr)
    assert.ok(has(/node-b:shoal:content built manifest/), stderr)
    assert.ok(has(/^\s*\S*\s*shoal:store opened \S+\/without for download/), stderr)
    assert.ok(!has(/^\s*\S*\s*shoal:store opened \S+\/with for download/), 'a given logger must replace the default one')
  })
})
