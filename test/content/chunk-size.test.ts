import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { chunkCountFor, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, validateChunkSize } from '../../src/content/index.js'
import { isShoalError } from '../../src/util/index.js'

describe('validateChunkSize', () => {
  it('accepts every power of two from the minimum to the maximum', () => {
    let accepted = 0
    for (let n = MIN_CHUNK_SIZE; n <= MAX_CHUNK_SIZE; n *= 2) {
      validateChunkSize(n)
      accepted++
    }
    assert.equal(accepted, 9)
    validateChunkSize(DEFAULT_CHUNK_SIZE)
  })

  it('rejects sizes out of range, not powers of two or not integers', () => {
    for (const n of [0, -1, MIN_CHUNK_SIZE / 2, MAX_CHUNK_SIZE * 2, MIN_CHUNK_SIZE + 1, 100_000, 65536.5, NaN, Infinity, '65536', undefined]) {
      assert.throws(() => validateChunkSize(n), (err: unknown) => isShoalError(err, 'ERR_BAD_CHUNK_SIZE'), `accepted ${String(n)}`)
    }
  })
})

describe('chunkCountFor', () => {
  it('is ceil(size / chunkSize) and zero for an empty file', () => {
    assert.equal(chunkCountFor(0, MIN_CHUNK_SIZE), 0)
    assert.equal(chunkCountFor(1, MIN_CHUNK_SIZE), 1)
    assert.equal(chunkCountFor(MIN_CHUNK_SIZE, MIN_CHUNK_SIZE), 1)
    assert.equal(chunkCountFor(MIN_CHUNK_SIZE + 1, MIN_CHUNK_SIZE), 2)
  })
})
