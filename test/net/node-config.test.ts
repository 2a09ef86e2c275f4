import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { isShoalError } from '../../src/util/shoal-error.js'
import { effectiveAnnounceFilter, filterAddresses, resolveNodeConfig, ShoalNetwork } from '../../src/net/index.js'
import type { NodeConfigInput } from '../../src/net/index.js'
import { Harness } from './helpers.js'

const PEER = '12D3KooWKpxhcBqBRjVudoKwkmRDKwjXFigdWiXsYzxc7tLUDqZb'

describe('resolveNodeConfig', () => {
  it('applies defaults', () => {
    const c = resolveNodeConfig({ dataDir: '/tmp/x' })
    assert.deepEqual(c.listen, ['/ip4/0.0.0.0/tcp/0'])
    assert.equal(c.dhtMode, 'server')
    assert.equal(c.announceFilter, 'auto')
    assert.equal(c.identityFile, join('/tmp/x', 'identity.key'))
    assert.deepEqual(c.bootstrap, [])
    assert.ok(c.inboundConnectionsPerHostPerSecond > 5)
  })

  const cases: Array<[string, Partial<NodeConfigInput>, string]> = [
    ['missing dataDir', { dataDir: '' }, '`dataDir`'],
    ['bad multiaddr', { listen: ['not/a/multiaddr'] }, '`listen[0]`'],
    ['non-TCP listen', { listen: ['/ip4/127.0.0.1/udp/1'] }, 'not a TCP address'],
    ['bootstrap without /p2p/', { bootstrap: ['/ip4/10.0.0.1/tcp/4001'] }, '/p2p/'],
    ['bad bootstrap', { bootstrap: [`/ip4/10.0.0.1/tcp/4001/p2p/${PEER}`, 'garbage'] }, '`bootstrap[1]`'],
    ['bad dhtMode', { dhtMode: 'both' as 'server' }, '`dhtMode`'],
    ['bad announceFilter', { announceFilter: 'none' as 'all' }, '`announceFilter`'],
    ['bad maxConnections', { maxConnections: -1 }, '`maxConnections`'],
    ['listen not a list', { listen: '/ip4/0.0.0.0/tcp/1' as unknown as string[] }, '`listen`']
  ]
  for (const [name, input, expected] of cases) {
    it(`rejects ${name} with ERR_BAD_CONFIG`, () => {
      assert.throws(() => resolveNodeConfig({ dataDir: '/tmp/x', ...input }),
        (err: unknown) => isShoalError(err, 'ERR_BAD_CONFIG') && err.message.includes(expected))
    })
  }

  it('accepts a bootstrap address with a /p2p/ suffix', () => {
    assert.equal(resolveNodeConfig({ dataDir: '/tmp/x', bootstrap: [`/ip4/10.0.0.1/tcp/4001/p2p/${PEER}`] }).bootstrap.length, 1)
  })
})

describe('announce filter', () => {
  const addrs = ['/ip4/127.0.0.1/tcp/1', '/ip4/10.1.2.3/tcp/1', '/ip4/8.8.8.8/tcp/1'].map(a => multiaddr(a))
  it('auto keeps loopback only for loopback-only nodes', () => {
    assert.equal(effectiveAnnounceFilter('auto', [multiaddr('/ip4/127.0.0.1/tcp/0')]), 'all')
    assert.equal(effectiveAnnounceFilter('auto', [multiaddr('/ip4/0.0.0.0/tcp/0')]), 'private')
  })
  it('filters by scope', () => {
    assert.deepEqual(filterAddresses('private', addrs).map(String), ['/ip4/10.1.2.3/tcp/1', '/ip4/8.8.8.8/tcp/1'])
    assert.deepEqual(filterAddresses('public', addrs).map(String), ['/ip4/8.8.8.8/tcp/1'])
    assert.equal(filterAddresses('all', addrs).length, 3)
  })
  it('a node on 0.0.0.0 does not announce 127.0.0.1', async (t) => {
    const h = new Harness()
    t.after(async () => { await h.cleanup() })
    const net = await h.network({ listen: ['/ip4/0.0.0.0/tcp/0'] })
    await net.start()
    assert.ok(!net.multiaddrs.some(ma => ma.toString().startsWith('/ip4/127.')))
  })
})

describe('data directory', () => {
  const h = new Harness()
  after(async () => { await h.cleanup() })
  it('a data dir that is a file fails with ERR_BAD_DATA_DIR', async () => {
    const file = join(await h.tempDir(), 'file')
    await writeFile(file, 'x')
    const net = new ShoalNetwork({ dataDir: file, listen: ['/ip4/127.0.0.1/tcp/0'] })
    await assert.rejects(net.start(), (err: unknown) => isShoalError(err, 'ERR_BAD_DATA_DIR') && err.message.includes(file))
  })
  it('a data dir already used by a running node fails with ERR_BAD_DATA_DIR', async () => {
    const dataDir = await h.tempDir()
    const first = await h.network({ dataDir })
    await first.start()
    const second = await h.network({ dataDir })
    await assert.rejects(second.start(), (err: unknown) => isShoalError(err, 'ERR_BAD_DATA_DIR'))
  })
})
