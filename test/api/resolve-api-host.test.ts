// Loopback-ness of the control API's host decided on resolved addresses, not on the name.
// Covered: the decision on an injected resolver (any answer, offline), and the system resolver on
// `localhost` and on this machine's own hostname (whatever it resolves to here). Not covered: a live
// attacker-controlled DNS name, which needs the network.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { lookup } from 'node:dns/promises'
import { hostname } from 'node:os'
import { isLoopbackAddress, resolveApiHost } from '../../src/api/resolve-api-host.js'

describe('resolveApiHost', () => {
  it('knows loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopbackAddress(a), a)
    for (const a of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.5', '::ffff:10.0.0.1', 'localhost', '127.attacker.example']) assert.ok(!isLoopbackAddress(a), a)
  })

  it('decides on every resolved address (injected resolver)', async () => {
    const lan = await resolveApiHost('127.attacker.example', async () => [{ address: '192.168.1.20', family: 4 }])
    assert.deepEqual(lan, { address: '192.168.1.20', addresses: ['192.168.1.20'], loopback: false })
    const mixed = await resolveApiHost('x.example', async () => [{ address: '127.0.0.1', family: 4 }, { address: '10.0.0.2', family: 4 }])
    assert.equal(mixed.loopback, false)
    const both = await resolveApiHost('y.example', async () => [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }])
    assert.deepEqual(both, { address: '::1', addresses: ['::1', '127.0.0.1'], loopback: true })
    // literal addresses never reach the resolver
    assert.deepEqual(await resolveApiHost('10.0.0.3', async () => { throw new Error('not called') }), { address: '10.0.0.3', addresses: ['10.0.0.3'], loopback: false })
    await assert.rejects(resolveApiHost('empty.example', async () => []))
  })

  it('resolves localhost to loopback with the system resolver', async () => {
    const r = await resolveApiHost('localhost')
    assert.ok(r.loopback, JSON.stringify(r))
    assert.notEqual(r.address, 'localhost')
  })

  it('agrees with the system resolver on this machine\'s hostname', async () => {
    const name = hostname()
    const expected = await lookup(name, { all: true }).catch(() => undefined)
    if (expected === undefined) return // the hostname does not resolve here: nothing to compare
    const r = await resolveApiHost(name)
    assert.deepEqual(r.addresses, expected.map(a => a.address))
    assert.equal(r.loopback, expected.every(a => isLoopbackAddress(a.address)))
  })
})
