// Parsing of the control API address setting.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseAddress } from '../../src/api/parse-address.js'
import { isShoalError } from '../../src/util/shoal-error.js'

describe('parseAddress', () => {
  it('reads host:port, [v6]:port and a bare port', () => {
    assert.deepEqual(parseAddress('127.0.0.1:7070'), { host: '127.0.0.1', port: 7070 })
    assert.deepEqual(parseAddress('[::1]:80'), { host: '::1', port: 80 })
    assert.deepEqual(parseAddress('7070'), { host: '127.0.0.1', port: 7070 })
    assert.deepEqual(parseAddress('localhost:1'), { host: 'localhost', port: 1 })
    for (const bad of ['', 'host', 'host:', ':80', '1.2.3.4:99999', 'a b:1']) {
      assert.throws(() => parseAddress(bad), (err: unknown) => isShoalError(err, 'ERR_BAD_CONFIG'), bad)
    }
  })
})
