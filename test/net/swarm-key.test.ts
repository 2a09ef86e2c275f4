import assert from 'node:assert/strict'
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { isShoalError } from '../../src/util/shoal-error.js'
import { loadSwarmKey, parseSwarmKey, writeSwarmKeyFile } from '../../src/net/index.js'
import { Harness, waitFor } from './helpers.js'

describe('swarm key', () => {
  const h = new Harness()
  after(async () => { await h.cleanup() })

  it('writes a 0600 key, refuses to overwrite, loads and validates', async () => {
    const dir = await h.tempDir()
    const path = join(dir, 'swarm.key')
    const key = await writeSwarmKeyFile(path)
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    assert.deepEqual(await loadSwarmKey(path), parseSwarmKey(key))
    await assert.rejects(writeSwarmKeyFile(path), (err: unknown) => isShoalError(err, 'ERR_BAD_SWARM_KEY'))
    const bad = join(dir, 'bad.key')
    await writeFile(bad, '/key/swarm/psk/1.0.0/\n/base16/\nnothex\n')
    await assert.rejects(loadSwarmKey(bad), (err: unknown) => isShoalError(err, 'ERR_BAD_SWARM_KEY') && err.message.includes(bad))
    await assert.rejects(loadSwarmKey(join(dir, 'missing.key')), (err: unknown) => isShoalError(err, 'ERR_BAD_SWARM_KEY'))
  })

  it('members with the same key connect; nodes with another key or none cannot', async () => {
    const dir = await h.tempDir()
    const keyA = join(dir, 'a.key')
    const keyB = join(dir, 'b.key')
    await writeSwarmKeyFile(keyA)
    await writeSwarmKeyFile(keyB)
    const m1 = await h.network({ swarmKeyFile: keyA })
    await m1.start()
    const m1Addr = m1.multiaddrs[0]!.toString()
    const m2 = await h.network({ swarmKeyFile: keyA, bootstrap: [m1Addr] })
    const other = await h.network({ swarmKeyFile: keyB, bootstrap: [m1Addr] })
    const open = await h.network({ bootstrap: [m1Addr] })
    await Promise.all([m2.start(), other.start(), open.start()])
    await waitFor('members connect', () => m1.connectedPeers().some(p => p.equals(m2.peerId)))
    await Promise.all([other, open].flatMap(outsider => [m1, m2].map(async member =>
      assert.rejects(outsider.libp2p.dial(member.multiaddrs[0]!, { signal: AbortSignal.timeout(4_000) }))
    )))
    // Give the outsiders' bootstrap retries time to try again, then check nobody let them in.
    await new Promise(resolve => setTimeout(resolve, 1_500))
    for (const outsider of [other, open]) {
      assert.equal(outsider.connectedPeers().length, 0)
      assert.ok(!m1.connectedPeers().some(p => p.equals(outsider.peerId)))
      assert.ok(!m2.connectedPeers().some(p => p.equals(outsider.peerId)))
    }
  })
})
