// HTTP statuses of codes that used to fall through to 500 although the fault was not the daemon's.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { HTTP_STATUS_OF, statusFor } from '../../src/api/http-status.js'
import { ShoalError } from '../../src/errors.js'

describe('statusFor', () => {
  it('answers for each code what its map says, and 500 for anything else', () => {
    assert.equal(statusFor(new ShoalError('ERR_NOT_FOUND', 'x')), 404)
    assert.equal(statusFor(new ShoalError('ERR_SOURCE_CHANGED', 'x')), HTTP_STATUS_OF.ERR_SOURCE_CHANGED)
    assert.equal(statusFor(new Error('plain')), 500)
    assert.equal(statusFor(undefined), 500)
  })

  it('codes that were unmapped name whose fault it was', () => {
    assert.equal(statusFor(new ShoalError('ERR_SOURCE_CHANGED', 'x')), 422)
    assert.equal(statusFor(new ShoalError('ERR_BAD_LAYOUT', 'x')), 422)
    assert.equal(statusFor(new ShoalError('ERR_NOT_HELD', 'x')), 404)
    assert.equal(statusFor(new ShoalError('ERR_ABORTED', 'x')), 503)
    assert.equal(statusFor(new ShoalError('ERR_NOT_STARTED', 'x')), 503)
    assert.equal(statusFor(new ShoalError('ERR_BOOTSTRAP_UNREACHABLE', 'x')), 504)
    assert.equal(statusFor(new ShoalError('ERR_PEER_TIMEOUT', 'x')), 504)
    assert.equal(statusFor(new ShoalError('ERR_XFER_STREAM', 'x')), 502)
  })
})
