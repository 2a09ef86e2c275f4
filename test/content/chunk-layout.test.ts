import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ChunkLayout, verifyChunk } from '../../src/content/index.js'
import type { Manifest } from '../../src/content/index.js'
import { isShoalError } from '../../src/util/index.js'
import { C, expectedChunks, randomData } from './helpers.js'

/** A manifest over in-memory file contents, with empty files at the start, middle and end. */
function layoutOf (contents: Array<[string, Uint8Array]>): { manifest: Manifest, layout: ChunkLayout } {
  const files = contents.map(([path, data]) => ({ path, size: data.length, chunks: expectedChunks(data, C) }))
  const manifest: Manifest = {
    version: 1, name: 'n', chunkSize: C, directories: [], files, size: files.reduce((s, f) => s + f.size, 0)
  }
  return { manifest, layout: new ChunkLayout(manifest) }
}

describe('ChunkLayout', () => {
  const contents: Array<[string, Uint8Array]> = [
    ['e0', new Uint8Array(0)],
    ['a', randomData(2 * C + 10)],
    ['e1', new Uint8Array(0)],
    ['e2', new Uint8Array(0)],
    ['b', randomData(C)],
    ['c', randomData(1)],
    ['e3', new Uint8Array(0)]
  ]
  const { layout } = layoutOf(contents)

  it('counts ceil(size / chunkSize) chunks per file', () => {
    assert.equal(layout.chunkCount, 3 + 1 + 1)
    assert.deepEqual(layout.fileChunks(0), { first: 0, count: 0 })
    assert.deepEqual(layout.fileChunks(1), { first: 0, count: 3 })
    assert.deepEqual(layout.fileChunks(4), { first: 3, count: 1 })
    assert.deepEqual(layout.fileChunks(6), { first: 5, count: 0 })
  })

  it('locates every chunk in its file, skipping empty files', () => {
    const expected = [
      { fileIndex: 1, path: 'a', offset: 0, length: C },
      { fileIndex: 1, path: 'a', offset: C, length: C },
      { fileIndex: 1, path: 'a', offset: 2 * C, length: 10 },
      { fileIndex: 4, path: 'b', offset: 0, length: C },
      { fileIndex: 5, path: 'c', offset: 0, length: 1 }
    ]
    expected.forEach((want, index) => {
      const got = layout.chunk(index)
      assert.deepEqual({ fileIndex: got.fileIndex, path: got.path, offset: got.offset, length: got.length }, want)
      const data = contents[want.fileIndex]![1].subarray(want.offset, want.offset + want.length)
      assert.deepEqual(got.digest, expectedChunks(data, C)[0])
      assert.equal(layout.chunkLength(index), want.length)
    })
  })

  it('rejects indexes out of range', () => {
    for (const i of [-1, 5, 1.5, NaN]) {
      assert.throws(() => layout.chunk(i), (err: unknown) => isShoalError(err, 'ERR_BAD_INDEX'), `accepted ${i}`)
    }
    assert.throws(() => layout.fileChunks(7), (err: unknown) => isShoalError(err, 'ERR_BAD_INDEX'))
  })

  it('handles content with no chunks at all', () => {
    const empty = layoutOf([['x', new Uint8Array(0)]]).layout
    assert.equal(empty.chunkCount, 0)
    assert.throws(() => empty.chunk(0), (err: unknown) => isShoalError(err, 'ERR_BAD_INDEX'))
    assert.equal(layoutOf([]).layout.chunkCount, 0)
  })

  it('finds chunks across many files', () => {
    const many: Array<[string, Uint8Array]> = Array.from({ length: 300 }, (_, i) => [`f${i}`, new Uint8Array(i % 3 === 0 ? 0 : (i % 4) * C)])
    const big = layoutOf(many).layout
    let index = 0
    many.forEach(([path, data]) => {
      for (let off = 0; off < data.length; off += C) {
        const loc = big.chunk(index++)
        assert.equal(loc.path, path)
        assert.equal(loc.offset, off)
      }
    })
    assert.equal(index, big.chunkCount)
  })
})

describe('verifyChunk', () => {
  const a = randomData(C + 100)
  const { layout } = layoutOf([['a', a]])

  it('accepts the right bytes', () => {
    assert.equal(verifyChunk(layout, 0, a.subarray(0, C)), true)
    assert.equal(verifyChunk(layout, 1, a.subarray(C)), true)
  })

  it('rejects wrong length, wrong bytes and the wrong chunk', () => {
    assert.equal(verifyChunk(layout, 1, a.subarray(C, C + 99)), false)
    assert.equal(verifyChunk(layout, 1, new Uint8Array([...a.subarray(C), 0])), false)
    const flipped = Uint8Array.from(a.subarray(0, C))
    flipped[C - 1]! ^= 0x80
    assert.equal(verifyChunk(layout, 0, flipped), false)
    assert.equal(verifyChunk(layout, 0, new Uint8Array(C)), false)
  })

  it('throws ERR_BAD_INDEX for an index outside the layout', () => {
    assert.throws(() => verifyChunk(layout, 2, a.subarray(0, 1)), (err: unknown) => isShoalError(err, 'ERR_BAD_INDEX'))
  })
})
