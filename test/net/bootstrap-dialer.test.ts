import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreateIdentity } from '../../src/net/index.js'
import { Harness, freePort, waitFor } from './helpers.js'

describe('bootstrap dialing with retry', () => {
  const h = new Harness()
  after(async () => { await h.cleanup() })

  it('joins a bootstrap node that starts late, and reconnects after it restarts with the same key', async () => {
    const bootDir = await h.tempDir()
    const identityFile = join(bootDir, 'keys', 'boot.key')
    const bootPeer = peerIdFromPrivateKey(await loadOrCreateIdentity(identityFile))
    const port = await freePort()
    const bootAddr = `/ip4/127.0.0.1/tcp/${port}/p2p/${bootPeer.toString()}`
    const bootConfig = { dataDir: bootDir, identityFile, listen: [`/ip4/127.0.0.1/tcp/${port}`] }

    const a = await h.network({ bootstrap: [bootAddr] })
    const b = await h.network({ bootstrap: [bootAddr] })
    await a.start()
    await b.start()
    // Let the first dials fail so the retry path is what connects.
    await new Promise(resolve => setTimeout(resolve, 1_500))
    assert.equal(a.connectedPeers().length, 0)

    const boot = await h.network(bootConfig)
    await boot.start()
    assert.ok(boot.peerId.equals(bootPeer), 'bootstrap node did not use its key file')
    await waitFor('both nodes reach the late bootstrap node', () =>
      a.connectedPeers().some(p => p.equals(bootPeer)) && b.connectedPeers().some(p => p.equals(bootPeer)), 15_000)

    await boot.stop()
    await waitFor('nodes notice the bootstrap node is gone', () => !a.connectedPeers().some(p => p.equals(bootPeer)), 10_000)
    const restarted = await h.network(bootConfig)
    await restarted.start()
    assert.ok(restarted.peerId.equals(bootPeer), 'restarted bootstrap node has a new PeerId')
    await waitFor('both nodes reconnect to the restarted bootstrap node', () =>
      restarted.connectedPeers().some(p => p.equals(a.peerId)) && restarted.connectedPeers().some(p => p.equals(b.peerId)), 15_000)
  })
})
