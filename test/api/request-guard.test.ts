// The browser-facing checks of the control API, on header sets as browsers and attackers send them.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { RequestGuard, hostWithoutPort, isLoopbackName } from '../../src/api/request-guard.js'
import { isShoalError } from '../../src/util/shoal-error.js'
import type { ShoalErrorCode } from '../../src/errors.js'

const refuses = (guard: RequestGuard, headers: Record<string, string>, code: ShoalErrorCode): void => {
  assert.throws(() => { guard.check(headers) }, (err: unknown) => isShoalError(err, code), JSON.stringify(headers))
}

describe('RequestGuard', () => {
  const guard = new RequestGuard({ allowHosts: ['10.0.0.5', 'Shoal.Internal:7070'], allowOrigins: ['https://ops.example/'] })

  it('strips ports and brackets from Host', () => {
    assert.equal(hostWithoutPort('[::1]:7070'), '::1')
    assert.equal(hostWithoutPort('[::1]'), '::1')
    assert.equal(hostWithoutPort('LocalHost:1'), 'localhost')
    assert.equal(hostWithoutPort('127.0.0.1'), '127.0.0.1')
    assert.ok(isLoopbackName('127.9.9.9'))
    assert.ok(!isLoopbackName('127.0.0.1.evil.example'))
    assert.ok(!isLoopbackName('127.1'))
  })

  it('accepts loopback names, listed names and the bound address; refuses others', () => {
    for (const host of ['localhost', 'localhost:7070', '127.0.0.1:7070', '127.3.4.5', '[::1]:7070', '[::1]', '10.0.0.5:7070', 'shoal.internal']) {
      guard.check({ host })
    }
    for (const host of ['evil.example', 'evil.example:7070', '127.0.0.1.nip.io', 'localhost.evil.example', '[::2]:7070', '10.0.0.6', '']) {
      refuses(guard, { host }, 'ERR_FORBIDDEN_HOST')
    }
    refuses(guard, {}, 'ERR_FORBIDDEN_HOST')
  })

  it('refuses a present Origin that is not listed, and cross-site Fetch Metadata without one', () => {
    guard.check({ host: 'localhost', origin: 'https://ops.example' })
    guard.check({ host: 'localhost', origin: 'HTTPS://OPS.EXAMPLE' })
    assert.ok(guard.allowsOrigin('https://ops.example'))
    assert.ok(!guard.allowsOrigin(undefined))
    for (const origin of ['https://evil.example', 'null', 'http://ops.example', 'https://ops.example:8443']) {
      refuses(guard, { host: 'localhost', origin }, 'ERR_FORBIDDEN_ORIGIN')
    }
    refuses(guard, { host: 'localhost', 'sec-fetch-site': 'cross-site' }, 'ERR_FORBIDDEN_ORIGIN')
    refuses(guard, { host: 'localhost', 'sec-fetch-site': 'same-site' }, 'ERR_FORBIDDEN_ORIGIN')
    guard.check({ host: 'localhost', 'sec-fetch-site': 'none' })
    guard.check({ host: 'localhost', 'sec-fetch-site': 'same-origin' })
    // with no origins configured every Origin is foreign
    refuses(new RequestGuard(), { host: 'localhost', origin: 'https://ops.example' }, 'ERR_FORBIDDEN_ORIGIN')
  })

  it('wants application/json for any request body', () => {
    guard.check({ host: 'localhost', 'content-type': 'application/json', 'content-length': '2' })
    guard.check({ host: 'localhost', 'content-type': 'application/json; charset=UTF-8', 'transfer-encoding': 'chunked' })
    guard.check({ host: 'localhost', 'content-length': '0' })
    guard.check({ host: 'localhost' })
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']) {
      refuses(guard, { host: 'localhost', 'content-type': type, 'content-length': '10' }, 'ERR_UNSUPPORTED_MEDIA_TYPE')
    }
    refuses(guard, { host: 'localhost', 'content-length': '10' }, 'ERR_UNSUPPORTED_MEDIA_TYPE')
  })
})
