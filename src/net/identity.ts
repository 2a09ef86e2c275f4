import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { logger } from '@libp2p/logger'
import { ShoalError } from '../util/shoal-error.js'
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
