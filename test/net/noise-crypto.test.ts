import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { pureJsCrypto } from '@chainsafe/libp2p-noise'
import { Uint8ArrayList } from 'uint8arraylist'
import { noiseCrypto } from '../../src/net/noise-crypto.js'

const bytes = (data: Uint8Array | { subarray(): Uint8Array }): Buffer => Buffer.from(data instanceof Uint8Array ? data : data.subarray())
type CipherInput = Parameters<typeof noiseCrypto.chaCha20Poly1305Decrypt>[0]
/** A message split over two buffers, as noise passes one that straddles two socket reads (its own uint8arraylist major differs from shoal's). */
const list = (data: Uint8Array, at: number): CipherInput => new Uint8ArrayList(data.subarray(0, at), data.subarray(at)) as unknown as CipherInput

describe('noiseCrypto (ChaCha20-Poly1305 with a cached key object)', () => {
  it('interoperates with the pure-JS implementation both ways, for small, large and split messages', () => {
    const k = randomBytes(32)
    const ad = randomBytes(32)
    for (const size of [0, 100, 1199, 1200, 65_519]) {
      const nonce = randomBytes(12)
      const plain = randomBytes(size)
      const sealed = bytes(noiseCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, k))
      assert.deepEqual(sealed, bytes(pureJsCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, k)), `size ${size}`)
      assert.deepEqual(bytes(noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, k)), bytes(plain))
      const half = Math.floor(sealed.byteLength / 2)
      const split = list(sealed, half)
      assert.deepEqual(bytes(noiseCrypto.chaCha20Poly1305Decrypt(split, nonce, ad, k)), bytes(plain))
      const splitPlain = list(plain, Math.min(7, size))
      assert.deepEqual(bytes(noiseCrypto.chaCha20Poly1305Encrypt(splitPlain, nonce, ad, k)), sealed)
    }
  })

  it('rejects a tampered message', () => {
    const k = randomBytes(32)
    const nonce = randomBytes(12)
    const sealed = Uint8Array.from(bytes(noiseCrypto.chaCha20Poly1305Encrypt(randomBytes(4096), nonce, new Uint8Array(0), k)))
    sealed[100]! ^= 1
    assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, new Uint8Array(0), k))
  })

  it('never encrypts under a stale key when a key array is rewritten in place', () => {
    const k = randomBytes(32)
    const nonce = randomBytes(12)
    const plain = randomBytes(4096)
    noiseCrypto.chaCha20Poly1305Encrypt(plain, nonce, new Uint8Array(0), k)
    k.set(randomBytes(32))
    const sealed = bytes(noiseCrypto.chaCha20Poly1305Encrypt(plain, nonce, new Uint8Array(0), k))
    assert.deepEqual(sealed, bytes(pureJsCrypto.chaCha20Poly1305Encrypt(plain, nonce, new Uint8Array(0), Uint8Array.from(k))))
  })
})
