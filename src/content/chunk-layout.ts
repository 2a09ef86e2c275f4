import { equals } from 'uint8arrays/equals'
import { ShoalError } from '../util/shoal-error.js'
import { chunkCountFor } from './chunk-size.js'
import { sha256 } from './sha256.js'
import type { ContentLayout } from './content-layout.js'

/** Where one chunk lives: its file, its byte range within that file, and its expected digest. */
export interface ChunkLocation {
  index: number
  fileIndex: number
  path: string
  /** Byte offset of the chunk within its file. */
  offset: number
  length: number
  digest: Uint8Array
}

/**
 * Maps global chunk indexes to files and byte ranges. Chunks never span files, so a file of size s
 * holds ceil(s / chunkSize) chunks and the global index runs over the files in manifest order.
 * Lookup is a binary search over files: O(log files).
 */
export class ChunkLayout {
  readonly chunkSize: number
  readonly chunkCount: number
  readonly #layout: ContentLayout
  /** firstChunk[i] is the global index of file i's first chunk; firstChunk[files] is chunkCount. */
  readonly #firstChunk: Float64Array

  constructor (layout: ContentLayout) {
    this.#layout = layout
    this.chunkSize = layout.chunkSize
    this.#firstChunk = new Float64Array(layout.files.length + 1)
    let next = 0
    layout.files.forEach((file, i) => {
      this.#firstChunk[i] = next
      next += chunkCountFor(file.size, layout.chunkSize)
    })
    this.#firstChunk[layout.files.length] = next
    this.chunkCount = next
  }

  /** Global index of the first chunk of file `fileIndex` and the number of chunks it has. */
  fileChunks (fileIndex: number): { first: number, count: number } {
    if (!Number.isInteger(fileIndex) || fileIndex < 0 || fileIndex >= this.#layout.files.length) {
      throw new ShoalError('ERR_BAD_INDEX', `file index ${fileIndex} is outside 0..${this.#layout.files.length - 1}`)
    }
    const first = this.#firstChunk[fileIndex]!
    return { first, count: this.#firstChunk[fileIndex + 1]! - first }
  }

  /** Locates chunk `index`; throws ERR_BAD_INDEX when it is out of range. */
  chunk (index: number): ChunkLocation {
    if (!Number.isInteger(index) || index < 0 || index >= this.chunkCount) {
      throw new ShoalError('ERR_BAD_INDEX', `chunk index ${index} is outside 0..${this.chunkCount - 1}`)
    }
    // Last file whose first chunk is <= index. Empty files share their first index with the next
    // file, so taking the last match skips them.
    let lo = 0
    let hi = this.#layout.files.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (this.#firstChunk[mid]! <= index) lo = mid
      else hi = mid - 1
    }
    const file = this.#layout.files[lo]!
    const within = index - this.#firstChunk[lo]!
    const offset = within * this.chunkSize
    return {
      index,
      fileIndex: lo,
      path: file.path,
      offset,
      length: Math.min(this.chunkSize, file.size - offset),
      digest: file.chunks[within]!
    }
  }

  /** Expected length of chunk `index` in bytes. */
  chunkLength (index: number): number {
    return this.chunk(index).length
  }
}

/**
 * True when `data` is exactly chunk `index`: right length and matching sha2-256 digest. Throws
 * ERR_BAD_INDEX for an index outside the layout, which is a protocol error rather than bad data.
 */
export function verifyChunk (layout: ChunkLayout, index: number, data: Uint8Array): boolean {
  const { length, digest } = layout.chunk(index)
  return data.length === length && equals(sha256(data), digest)
}
