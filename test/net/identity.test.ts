import assert from 'node:assert/strict'
import { chmod, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { isShoalError } from '../../src/util/shoal-error.js'
import { loadOrCreateIdentity } from '../../src/net/index.js'
import { Harness } from './helpers.js'

describe('loadOrCreateIdentity', () => {
  const h = new Harness()
  after(async () => { await h.cleanup() })

  it('creates an Ed25519 key with mode 0600 (and its directory), then reuses it', async () => {
    const path = join(await h.tempDir(), 'nested', 'dir', 'identity.key')
    const first = await loadOrCreateIdentity(path)
    assert.equal(first.type, 'Ed25519')
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    const bytes = await readFile(path)
    const second = await loadOrCreateIdentity(path)
    assert.ok(peerIdFromPrivateKey(first).equals(peerIdFromPrivateKey(second)))
    assert.deepEqual(await readFile(path), bytes)
  })

  it('refuses a corrupt file with ERR_BAD_IDENTITY naming it, and never replaces it', async () => {
    const path = join(await h.tempDir(), 'identity.key')
    await writeFile(path, 'not a key')
    await assert.rejects(loadOrCreateIdentity(path), (err: unknown) => isShoalError(err, 'ERR_BAD_IDENTITY') && err.message.includes(path))
    assert.equal(await readFile(path, 'utf8'), 'not a key')
  })

  // Skipped as root (so in CI): file modes do not bind root, so no file is unreadable to it; it runs for any other user.
  it('refuses an unreadable file with ERR_BAD_IDENTITY', { skip: process.getuid?.() === 0 ? 'root reads anything' : false }, async () => {
    const path = join(await h.tempDir(), 'identity.key')
    await loadOrCreateIdentity(path)
    await chmod(path, 0o000)
    await assert.rejects(loadOrCreateIdentity(path), (err: unknown) => isShoalError(err, 'ERR_BAD_IDENTITY'))
  })

  it('keeps the PeerId of a node across restarts', async () => {
    const dataDir = await h.tempDir()
    const n1 = await h.network({ dataDir })
    await n1.start()
    const id = n1.peerId
    await n1.stop()
    const n2 = await h.network({ dataDir })
    await n2.start()
    assert.ok(n2.peerId.equals(id))
  })
})
