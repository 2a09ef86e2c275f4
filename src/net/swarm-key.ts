import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ShoalError } from '../util/shoal-error.js'

// The go-ipfs/libp2p "swarm.key" v1 format, as @libp2p/pnet reads it.
const HEADER = '/key/swarm/psk/1.0.0/'
const ENCODING = '/base16/'
const KEY_BYTES = 32

/** Creates a new random pre-shared swarm key in the standard three-line text format. */
export function generateSwarmKey (): Uint8Array {
  const hex = Buffer.from(crypto.getRandomValues(new Uint8Array(KEY_BYTES))).toString('hex')
  return new TextEncoder().encode(`${HEADER}\n${ENCODING}\n${hex}\n`)
}

/** Writes a new swarm key to `path` with mode 0600; refuses to overwrite an existing file. */
export async function writeSwarmKeyFile (path: string): Promise<Uint8Array> {
  const key = generateSwarmKey()
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    await writeFile(path, key, { mode: 0o600, flag: 'wx' })
    await chmod(path, 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ShoalError('ERR_BAD_SWARM_KEY', `swarm key file ${path} already exists; refusing to overwrite it (every member of the network uses it)`, { cause: err })
    }
    throw new ShoalError('ERR_BAD_SWARM_KEY', `cannot write swarm key file ${path}: ${(err as Error).message}`, { cause: err })
  }
  return key
}

/** Reads and validates a swarm key file; returns its bytes as @libp2p/pnet expects them. */
export async function loadSwarmKey (path: string): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    throw new ShoalError('ERR_BAD_SWARM_KEY', `cannot read swarm key file ${path}: ${(err as Error).message}`, { cause: err })
  }
  return parseSwarmKey(bytes, path)
}

/** Validates swarm key bytes (header, encoding, 64 hex digits); `source` names them in errors. */
export function parseSwarmKey (bytes: Uint8Array, source = 'swarm key'): Uint8Array {
  const lines = new TextDecoder().decode(bytes).split(/\r?\n/)
  const bad = (why: string): ShoalError => new ShoalError('ERR_BAD_SWARM_KEY',
    `${source} is not a valid swarm key: ${why}; expected "${HEADER}", "${ENCODING}" and 64 hex digits on three lines`)
  if (lines[0] !== HEADER) throw bad(`first line is not ${HEADER}`)
  if (lines[1] !== ENCODING) throw bad(`second line is not ${ENCODING} (only base16 keys are supported)`)
  const hex = lines[2]?.trim() ?? ''
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw bad('third line is not 64 hex digits')
  if (lines.slice(3).some(l => l.trim() !== '')) throw bad('unexpected text after the key')
  // Re-emit canonically so pnet never sees CRLF or trailing text.
  return new TextEncoder().encode(`${HEADER}\n${ENCODING}\n${hex.toLowerCase()}`)
}
