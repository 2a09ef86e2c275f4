import { chunkCountFor, DIGEST_LENGTH } from '../content/index.js'
import type { ContentLayout } from '../content/index.js'
import { ShoalError } from '../util/shoal-error.js'
import { MAX_CHUNKS } from './constants.js'
import { StoreErrorCode } from './store-errors.js'

/**
 * Throws ERR_BAD_LAYOUT unless chunks can be placed by `layout`: sizes are safe integers, every file
 * has one digest of DIGEST_LENGTH bytes per chunk, and the chunk count fits the journal's uint32. A
 * decoded manifest always passes; the store checks anyway because any caller may hand it a layout.
 */
export function checkLayout (layout: ContentLayout): void {
  const { chunkSize, files } = layout
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) {
    throw new ShoalError(StoreErrorCode.BAD_LAYOUT, `chunk size must be a positive integer, got ${chunkSize}`)
  }
  let total = 0
  for (const file of files) {
    if (!Number.isSafeInteger(file.size) || file.size < 0) {
      throw new ShoalError(StoreErrorCode.BAD_LAYOUT, `file ${file.path} has invalid size ${file.size}`)
    }
    const expected = chunkCountFor(file.size, chunkSize)
    if (file.chunks.length !== expected) {
      throw new ShoalError(StoreErrorCode.BAD_LAYOUT,
        `file ${file.path} of ${file.size} bytes needs ${expected} chunk digests, the layout has ${file.chunks.length}`)
    }
    for (const digest of file.chunks) {
      if (digest.length !== DIGEST_LENGTH) {
        throw new ShoalError(StoreErrorCode.BAD_LAYOUT, `file ${file.path} has a chunk digest of ${digest.length} bytes, expected ${DIGEST_LENGTH}`)
      }
    }
    total += expected
  }
  if (total > MAX_CHUNKS) throw new ShoalError(StoreErrorCode.BAD_LAYOUT, `layout has ${total} chunks, at most ${MAX_CHUNKS} are supported`)
}
