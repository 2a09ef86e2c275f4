import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { disable, enable } from '@libp2p/logger'
import { nodeLogger } from '../../src/net/node-logger.js'

describe('nodeLogger', () => {
  it('builds no tagged line for a namespace that is off, and tags every line of one that is on', () => {
    let tagReads = 0
    const loggers = nodeLogger(() => { tagReads++; return 'node-a' })
    disable()
    const off = loggers.forComponent('shoal:test:node-logger-off')
    off('a line %s', 'x')
    off.trace('a trace line %d', 1)
    off.error('an error line %s', 'y')
    assert.equal(tagReads, 0)

    const lines: string[] = []
    const write = process.stderr.write
    process.stderr.write = ((chunk: string | Uint8Array) => { lines.push(String(chunk)); return true }) as typeof process.stderr.write
    try {
      enable('shoal:test:node-logger-on')
      const on = loggers.forComponent('shoal:test:node-logger-on')
      on('a line %s', 'x')
    } finally {
      process.stderr.write = write
      disable()
    }
    assert.equal(tagReads, 1)
    assert.ok(lines.some(l => l.includes('[node-a] a line x')), lines.join(''))
  })
})
