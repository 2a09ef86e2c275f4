// examples/distribute.ts is documentation that runs; this keeps it running.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { runProgram } from '../cli/helpers.js'

const EXAMPLE = fileURLToPath(new URL('../../examples/distribute.js', import.meta.url))

describe('examples/distribute', { timeout: 120_000 }, () => {
  it('distributes a file to two receivers and verifies both copies', async () => {
    const r = await runProgram(process.execPath, [EXAMPLE, '2', '2'], 90_000)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /^seeding bafy\w+ \(8 chunks\)$/m)
    assert.match(r.stdout, /^receiver-1 wrote .* identical$/m)
    assert.match(r.stdout, /^receiver-2 wrote .* identical$/m)
    assert.match(r.stdout, /^all copies verified$/m)
  })
})
