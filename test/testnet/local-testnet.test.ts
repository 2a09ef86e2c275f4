import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ROOT, run } from './helpers.js'

describe('scripts/testnet-local.sh', () => {
  it('runs bootstrap, seeder and 3 peers on loopback; every peer verifies the file', { timeout: 200_000 }, async () => {
    // below Linux's ephemeral range (32768+), where outgoing connections could already hold a port
    const base = 20_000 + (process.pid % 100) * 120
    const r = await run('bash', [join(ROOT, 'scripts', 'testnet-local.sh'), '3'], {
      env: { ...process.env, SHOAL_SEED_SIZE: '8M', SHOAL_TESTNET_BASE_PORT: String(base), SHOAL_TESTNET_TIMEOUT: '150' },
      timeoutMs: 180_000
    })
    assert.equal(r.code, 0, r.stdout + r.stderr)
    const peers = r.stdout.split('\n').filter(l => /^\s+peer-\d+\s+\d+ ms\s+sha256 [0-9a-f]{64}$/.test(l))
    assert.equal(peers.length, 3, r.stdout)
    assert.equal(new Set(peers.map(l => l.split('sha256 ')[1])).size, 1, 'peers hold different files')
    for (const l of peers) console.log(`# local testnet: ${l.trim()}`)
  })
})
