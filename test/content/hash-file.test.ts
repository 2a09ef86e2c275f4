import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { HASH_READ_BYTES, hashFile } from '../../src/content/index.js'
import { isShoalError } from '../../src/util/index.js'
import { C, expectedChunks, randomData, tempDir } from './helpers.js'

describe('hashFile', () => {
  const sizes = [0, 1, C - 1, C, C + 1, 2 * C, 7 * C + 13]
  for (const size of sizes) {
    it(`cuts a ${size}-byte file into ${Math.ceil(size / C)} chunks with the right digests`, async () => {
      const dir = await tempDir()
      const data = randomData(size)
      const path = join(dir, 'f')
      await writeFile(path, data)
      const chunks = await hashFile(path, C)
      assert.equal(chunks.length, Math.ceil(size / C))
      assert.deepEqual(chunks, expectedChunks(data, C))
      for (const c of chunks) assert.equal(c.constructor, Uint8Array)
    })
  }

  // Reads are batched into blocks of HASH_READ_BYTES; cross block boundaries exactly and not.
  for (const size of [HASH_READ_BYTES, 2 * HASH_READ_BYTES + C + 5, HASH_READ_BYTES - 1]) {
    it(`hashes across read blocks: ${size} bytes`, async () => {
      const dir = await tempDir()
      const data = randomData(size)
      const path = join(dir, 'f')
      await writeFile(path, data)
      assert.deepEqual(await hashFile(path, C), expectedChunks(data, C))
      assert.deepEqual(await hashFile(path, 16 * 1024 * 1024), expectedChunks(data, 16 * 1024 * 1024))
    })
  }

  it('gives different digests for different chunk sizes', async () => {
    const dir = await tempDir()
    const data = randomData(4 * C)
    const path = join(dir, 'f')
    await writeFile(path, data)
    const big = await hashFile(path, 2 * C)
    assert.equal(big.length, 2)
    assert.deepEqual(big, expectedChunks(data, 2 * C))
  })

  it('throws ERR_UNREADABLE naming a missing path', async () => {
    const dir = await tempDir()
    const path = join(dir, 'missing')
    await assert.rejects(hashFile(path, C), (err: unknown) => isShoalError(err, 'ERR_UNREADABLE') && err.message.includes(path))
  })

  it('throws ERR_UNREADABLE for a directory', async () => {
    const dir = await tempDir()
    await assert.rejects(hashFile(dir, C), (err: unknown) => isShoalError(err, 'ERR_UNREADABLE'))
  })

  it('rejects a bad chunk size', async () => {
    const dir = await tempDir()
    const path = join(dir, 'f')
    await writeFile(path, 'x')
    await assert.rejects(hashFile(path, 1000), (err: unknown) => isShoalError(err, 'ERR_BAD_CHUNK_SIZE'))
  })

  it('stops when its signal is aborted', async () => {
    const dir = await tempDir()
    const path = join(dir, 'f')
    await writeFile(path, randomData(4 * C))
    const controller = new AbortController()
    controller.abort()
    await assert.rejects(hashFile(path, C, { signal: controller.signal }), { name: 'AbortError' })
  })
})
