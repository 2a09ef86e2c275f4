// Exit codes of codes that used to fall through to 1 ("unexpected failure, report it"), and the
// case the issue names, end to end: a data dir held by a running node is an I/O problem (exit 6).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeError } from '../../src/cli/describe-error.js'
import { ERRNO_EXIT_CODE, ExitCode, exitCodeFor } from '../../src/cli/exit-codes.js'
import { killAllShoals, runShoal, spawnShoal } from './helpers.js'

const LOOPBACK = '/ip4/127.0.0.1/tcp/0'

describe('exit codes', () => {
  it('codes that were thrown but unmapped exit with the code of what went wrong', () => {
    assert.equal(exitCodeFor('ERR_BAD_DATA_DIR'), ExitCode.IO)
    assert.equal(exitCodeFor('ERR_NET_START'), ExitCode.PORT_IN_USE)
    assert.equal(exitCodeFor('ERR_BAD_REQUEST'), ExitCode.DAEMON)
    assert.equal(exitCodeFor('ERR_NO_ROUTE'), ExitCode.DAEMON)
    assert.equal(exitCodeFor('ERR_BAD_LAYOUT'), ExitCode.BAD_CONTENT)
    assert.equal(exitCodeFor('ERR_XFER_STREAM'), ExitCode.UNREACHABLE)
    assert.equal(exitCodeFor('ERR_PEER_TIMEOUT'), ExitCode.UNREACHABLE)
    assert.equal(exitCodeFor('ERR_SOURCE_CHANGED'), ExitCode.IO)
    assert.equal(exitCodeFor('EADDRNOTAVAIL'), ExitCode.PORT_IN_USE)
  })

  it('a prototype key is not a code', () => {
    assert.equal(exitCodeFor('constructor'), ExitCode.FAILURE)
    assert.equal(exitCodeFor('__proto__'), ExitCode.FAILURE)
  })
})

describe('a data dir another node holds', { timeout: 120_000 }, () => {
  let work: string
  before(async () => { work = await mkdtemp(join(tmpdir(), 'shoal-exit-')) })
  after(async () => {
    await killAllShoals()
    await rm(work, { recursive: true, force: true })
  })

  it('exits 6 (I/O) with ERR_BAD_DATA_DIR, not 1', async () => {
    const dataDir = join(work, 'data')
    const first = spawnShoal(['bootstrap', '--listen', LOOPBACK, '--data-dir', dataDir, '--json'])
    await first.waitForLine(l => l.type === 'result', 60_000)
    await writeFile(join(work, 'file.bin'), 'payload')
    const second = await runShoal(['seed', join(work, 'file.bin'), '--listen', LOOPBACK, '--data-dir', dataDir, '--json'], { timeoutMs: 60_000 })
    const error = second.json().find(l => l.type === 'error')
    assert.equal(error?.code, 'ERR_BAD_DATA_DIR', second.stdout + second.stderr)
    assert.equal(second.code, ExitCode.IO)
    assert.equal(error?.exitCode, ExitCode.IO)
  })
})

describe('raw errno codes', () => {
  it('every errno with an exit code of its own also has advice', () => {
    for (const code of Object.keys(ERRNO_EXIT_CODE)) {
      const err = Object.assign(new Error(`raw ${code}`), { code })
      assert.notEqual(describeError(err).message, `raw ${code}`, `${code} has advice`)
    }
  })
})
