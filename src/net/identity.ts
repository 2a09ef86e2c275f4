import { access, chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { logger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ShoalError } from '../util/shoal-error.js'
import { IDENTITY_FILE } from './constants.js'
import type { PrivateKey } from '@libp2p/interface'

const log = logger('shoal:net:identity')

/**
 * Loads the node's Ed25519 identity key from `path`, creating it (mode 0600, parent directories
 * included) on first use. An existing but unreadable or corrupt file is an error, never silently
 * replaced: a new key would mean a new PeerId and break every bootstrap list naming this node.
 */
export async function loadOrCreateIdentity (path: string): Promise<PrivateKey> {
  let bytes: Uint8Array | undefined
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ShoalError('ERR_BAD_IDENTITY', `cannot read identity key file ${path}: ${(err as Error).message}; fix its permissions or point identityFile elsewhere`, { cause: err })
    }
  }
  if (bytes !== undefined) {
    try {
      const key = privateKeyFromProtobuf(bytes)
      if (key.type !== 'Ed25519') throw new Error(`key type is ${key.type}, shoal uses Ed25519`)
      return key
    } catch (err) {
      throw new ShoalError('ERR_BAD_IDENTITY', `identity key file ${path} is corrupt (${(err as Error).message}); restore it from backup, or delete it to create a new identity (the PeerId will change)`, { cause: err })
    }
  }
  const key = await generateKeyPair('Ed25519')
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    // 'wx' refuses to clobber a key another process created between our read and this write.
    await writeFile(path, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
    await chmod(path, 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateIdentity(path)
    throw new ShoalError('ERR_BAD_IDENTITY', `cannot create identity key file ${path}: ${(err as Error).message}; check the directory is writable`, { cause: err })
  }
  log('created new identity key at %s', path)
  return key
}

/** A node's identity as read from its data dir, without starting anything. */
export interface DataDirIdentity {
  peerId: string
  identityFile: string
  /** True when the key did not exist and was created by this call. */
  created: boolean
}

/** Loads (or creates on first use) the identity key of the node using `dataDir` and returns its PeerId. */
export async function identityOfDataDir (dataDir: string): Promise<DataDirIdentity> {
  const identityFile = join(dataDir, IDENTITY_FILE)
  const existed = await access(identityFile).then(() => true, () => false)
  const key = await loadOrCreateIdentity(identityFile)
  return { peerId: peerIdFromPrivateKey(key).toString(), identityFile, created: !existed }
}
