import { createCipheriv, createDecipheriv, createSecretKey } from 'node:crypto'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import type { KeyObject } from 'node:crypto'

const CHACHA_POLY1305 = 'chacha20-poly1305'
const TAG_LENGTH = 16
/** Below this, noise's own choice (a WebAssembly ChaCha20-Poly1305) beats creating a Node cipher. */
const NODE_CIPHER_MIN_BYTES = 1200

type CipherOutput = ReturnType<ICryptoInterface['chaCha20Poly1305Encrypt']>

interface CachedKey { bytes: Uint8Array, key: KeyObject }

// noise's node crypto passes the raw 32-byte key to createCipheriv for every transport message, and
// Node turns it into a key object each time: ~20 us of ~60 us per 64 KiB message. A session keeps its
// key array for its lifetime, so the key object is made once per array. The bytes are kept and
// compared so that an array rewritten in place can never encrypt under a stale key.
const keys = new WeakMap<Uint8Array, CachedKey>()

function keyObject (k: Uint8Array): KeyObject {
  const cached = keys.get(k)
  if (cached !== undefined && Buffer.compare(cached.bytes, k) === 0) return cached.key
  const entry = { bytes: Uint8Array.from(k), key: createSecretKey(k) }
  keys.set(k, entry)
  return entry.key
}

/**
 * Noise's default crypto (Node's ChaCha20-Poly1305, X25519 and SHA-256) with each session's cipher
 * key object created once instead of for every message. Same algorithms, same bytes on the wire.
 */
export const noiseCrypto: ICryptoInterface = {
  ...defaultCrypto,

  chaCha20Poly1305Encrypt (plaintext, nonce, ad, k) {
    if (plaintext.byteLength < NODE_CIPHER_MIN_BYTES) return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
    const cipher = createCipheriv(CHACHA_POLY1305, keyObject(k), nonce, { authTagLength: TAG_LENGTH })
    cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
    const output = new Uint8ArrayList()
    for (const buf of plaintext instanceof Uint8Array ? [plaintext] : plaintext) output.append(cipher.update(buf))
    const final = cipher.final()
    if (final.byteLength > 0) output.append(final)
    output.append(cipher.getAuthTag())
    return asOutput(output)
  },

  chaCha20Poly1305Decrypt (ciphertext, nonce, ad, k, dst) {
    if (ciphertext.byteLength < NODE_CIPHER_MIN_BYTES) return defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst)
    const end = ciphertext.byteLength - TAG_LENGTH
    const decipher = createDecipheriv(CHACHA_POLY1305, keyObject(k), nonce, { authTagLength: TAG_LENGTH })
    const text = ciphertext instanceof Uint8Array ? [ciphertext.subarray(0, end)] : ciphertext.sublist(0, end)
    decipher.setAAD(ad, { plaintextLength: end })
    decipher.setAuthTag(ciphertext.subarray(end))
    const output = new Uint8ArrayList()
    for (const buf of text) output.append(decipher.update(buf))
    const final = decipher.final()
    if (final.byteLength > 0) output.append(final)
    return asOutput(output)
  }
}

// noise bundles uint8arraylist 2 and shoal uses 3: both lists iterate over their buffers and carry the
// same Symbol.for tag, which is all noise relies on when it appends the result to its own list.
function asOutput (list: Uint8ArrayList): CipherOutput {
  return list as unknown as CipherOutput
}
