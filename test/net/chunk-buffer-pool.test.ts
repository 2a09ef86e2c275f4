import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ChunkBufferPool } from '../../src/net/xfer/chunk-buffer-pool.js'

describe('ChunkBufferPool', () => {
  it('hands a released buffer out again for the same length only', () => {
    const pool = new ChunkBufferPool(1024)
    const a = pool.take(256)
    assert.equal(a.byteLength, 256)
    assert.equal(a.byteOffset, 0)
    assert.equal(a.buffer.byteLength, 256, 'its own backing store, not a slice of a shared pool')
    pool.release(a)
    assert.equal(pool.freeBytes, 256)
    const other = pool.take(128)
    assert.notEqual(other.buffer, a.buffer)
    assert.equal(pool.take(256), a)
    assert.equal(pool.freeBytes, 0)
  })

  it('ignores a second release and buffers it never handed out', () => {
    const pool = new ChunkBufferPool(1024)
    const a = pool.take(64)
    pool.release(a)
    pool.release(a)
    pool.release(new Uint8Array(64))
    assert.equal(pool.freeBytes, 64)
    const first = pool.take(64)
    const second = pool.take(64)
    assert.equal(first, a)
    assert.notEqual(second, a, 'one buffer is never handed out twice')
  })

  it('keeps no more than its bound of released bytes', () => {
    const pool = new ChunkBufferPool(300)
    const taken = [pool.take(100), pool.take(100), pool.take(100), pool.take(100)]
    for (const buf of taken) pool.release(buf)
    assert.equal(pool.freeBytes, 300)
    const none = new ChunkBufferPool(0)
    const b = none.take(10)
    none.release(b)
    assert.equal(none.freeBytes, 0)
    assert.notEqual(none.take(10), b)
  })
})
