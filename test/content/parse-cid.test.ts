import assert from 'node:assert/strict'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { base58btc } from 'multiformats/bases/base58'
import { describe, it } from 'node:test'
import { manifestCid, parseCid } from '../../src/content/index.js'
import { isShoalError } from '../../src/util/index.js'
import { sha256 } from './helpers.js'

const badCid = (err: unknown): boolean => isShoalError(err, 'ERR_BAD_CID')

describe('parseCid', () => {
  const cid = manifestCid(new Uint8Array([1, 2, 3]))

  it('parses the base32 form it prints', () => {
    const text = cid.toString()
    assert.match(text, /^bafyrei/)
    assert.ok(parseCid(text).equals(cid))
  })

  it('parses the same CID in base58btc', () => {
    assert.ok(parseCid(cid.toString(base58btc)).equals(cid))
  })

  it('rejects garbage with a clear message', () => {
    for (const text of ['', 'hello', 'bafy', 'bafyrei!!!', ' ' + cid.toString()]) {
      assert.throws(() => parseCid(text), (err: unknown) => badCid(err) && /content ID/.test((err as Error).message), `accepted ${text}`)
    }
  })

  it('rejects CIDs of the wrong version, codec or hash', () => {
    const digest = Digest.create(0x12, sha256(new Uint8Array([1])))
    assert.throws(() => parseCid(CID.createV0(digest as never).toString()), (err: unknown) => badCid(err) && /CIDv1/.test((err as Error).message))
    assert.throws(() => parseCid(CID.createV1(0x55, digest).toString()), (err: unknown) => badCid(err) && /dag-cbor/.test((err as Error).message))
    const identity = Digest.create(0x00, new Uint8Array([1, 2]))
    assert.throws(() => parseCid(CID.createV1(0x71, identity).toString()), (err: unknown) => badCid(err) && /sha2-256/.test((err as Error).message))
  })
})
