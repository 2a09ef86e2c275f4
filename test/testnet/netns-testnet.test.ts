import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { netnsUnavailableReason } from '../../scripts/lib/netns-hosts.js'
import { ROOT, run } from './helpers.js'

const skip = netnsUnavailableReason()
if (skip !== undefined) console.log(`# netns testnet skipped: ${skip}`)

describe('scripts/testnet-netns.sh', () => {
  it('1 bootstrap + 1 seeder + 5 peers in namespaces; a peer unplugged mid-transfer still finishes', { skip, timeout: 240_000 }, async () => {
    // 16 MiB at 20 Mbit/s per host: at least ~7 s per peer, so the cut at +3 s lands mid-transfer
    const r = await run('bash', [join(ROOT, 'scripts', 'testnet-netns.sh'), '5'], {
      env: { ...process.env, SHOAL_SEED_SIZE: '16M', SHOAL_TESTNET_RATE: '20mbit', SHOAL_TESTNET_CUT_PEER: '3', SHOAL_TESTNET_CUT_AT: '3', SHOAL_TESTNET_CUT_FOR: '5', SHOAL_TESTNET_TIMEOUT: '150' },
      timeoutMs: 200_000
    })
    for (const l of r.stdout.split('\n').filter(l => l !== '')) console.log(`# ${l}`)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /unplugged peer-3 at \+\d+ ms \(already done: 0\)/)
    assert.match(r.stdout, /replugged peer-3/)
    const peers = r.stdout.split('\n').filter(l => /^peer peer-\d+ get \d+ ms/.test(l))
    assert.equal(peers.length, 5)
    assert.ok(peers.every(l => !l.includes('MISMATCH')))
    assert.match(r.stdout, /testnet-netns: ok/)
    const owner = /\((shoal-\d+-)h0\)/.exec(r.stdout)?.[1]
    assert.ok(owner !== undefined, 'the script did not list its namespaces')
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    assert.ok(!left.includes(owner), `namespaces left behind: ${left}`)
  })
})
