import { createHash } from 'node:crypto'
import { ShoalError } from '../util/shoal-error.js'
import { DIGEST_LENGTH, FINGERPRINT_LENGTH, MAX_CHUNKS } from './constants.js'
import { StoreErrorCode } from './store-errors.js'
import type { StoreLayout } from './layout.js'

/** Where one chunk lives: which file, at which byte offset, how long. */
export interface ChunkLocation {
  fileIndex: number
  offset: number
  length: number
}

/**
 * Maps global chunk indexes onto files of a validated layout. Also computes the layout fingerprint
 * that ties persisted state to this exact layout.
 */
export class ChunkMap {
  readonly layout: StoreLayout
  readonly chunkCount: number
  /** Global index of each file's first chunk, plus a final entry equal to chunkCount. */
  readonly #firstChunk: number[]
  readonly fingerprint: Uint8Array

  constructor (layout: StoreLayout) {
    const { chunkSize, files } = layout
    if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) {
      throw new ShoalError(StoreErrorCode.BAD_LAYOUT, `chunk size must be a positive integer, got ${chunkSize}`)
    }
    this.layout = layout
    this.#firstChunk = []
    let total = 0
    for (const file of files) {
      if (!Number.isSafeInteger(file.size) || file.size < 0) {
        throw new ShoalError(StoreErrorCode.BAD_LAYOUT, `file ${file.path} has invalid size ${file.size}`)
      }
      const expected = Math.ceil(file.size / chunkSize)
      if (file.chunks.length !== expected) {
        throw new ShoalError(StoreErrorCode.BAD_LAYOUT,
          `file ${file.path} of ${file.size} bytes needs ${expected} chunk digests, the layout has ${file.chunks.length}`)
      }
      for (const digest of file.chunks) {
        if (digest.length !== DIGEST_LENGTH) {
          throw new ShoalError(StoreErrorCode.BAD_LAYOUT, `file ${file.path} has a chunk digest of ${digest.length} bytes, expected ${DIGEST_LENGTH}`)
        }
      }
      this.#firstChunk.push(total)
      total += expected
    }
    if (total > MAX_CHUNKS) throw new ShoalError(StoreErrorCode.BAD_LAYOUT, `layout has ${total} chunks, at most ${MAX_CHUNKS} are supported`)
    this.#firstChunk.push(total)
    this.chunkCount = total
    this.fingerprint = fingerprintOf(layout)
  }

  /** Throws ERR_BAD_INDEX unless `index` names a chunk of this layout. */
  check (index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.chunkCount) {
      throw new ShoalError(StoreErrorCode.BAD_INDEX, `chunk index ${index} is outside 0..${this.chunkCount - 1}`)
    }
  }

  /** The file, offset and length of chunk `index`. */
  locate (index: number): ChunkLocation {
    this.check(index)
    // Binary search for the last file whose first chunk is <= index; zero-chunk files are skipped.
    let lo = 0
    let hi = this.layout.files.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.#firstChunk[mid]! <= index) lo = mid
      else hi = mid - 1
    }
    while (this.#firstChunk[lo + 1]! <= index) lo++
    const local = index - this.#firstChunk[lo]!
    const file = this.layout.files[lo]!
    const offset = local * this.layout.chunkSize
    return { fileIndex: lo, offset, length: Math.min(this.layout.chunkSize, file.size - offset) }
  }

  /** The expected sha2-256 digest of chunk `index`. */
  digest (index: number): Uint8Array {
    const { fileIndex, offset } = this.locate(index)
    return this.layout.files[fileIndex]!.chunks[offset / this.layout.chunkSize]!
  }

  /** Global indexes of the chunks of file `fileIndex`, as [first, end). */
  chunksOf (fileIndex: number): [number, number] {
    return [this.#firstChunk[fileIndex]!, this.#firstChunk[fileIndex + 1]!]
  }
}

function fingerprintOf (layout: StoreLayout): Uint8Array {
  const hash = createHash('sha256')
  hash.update(`shoal-store-layout\0${layout.chunkSize}\0${layout.files.length}\0`)
  for (const file of layout.files) {
    hash.update(`${file.path}\0${file.size}\0`)
    for (const digest of file.chunks) hash.update(digest)
  }
  return new Uint8Array(hash.digest().subarray(0, FINGERPRINT_LENGTH))
}
