import { ShoalError } from '../util/shoal-error.js'
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from './constants.js'

/** Throws ERR_BAD_CHUNK_SIZE unless `n` is a power of two between MIN_CHUNK_SIZE and MAX_CHUNK_SIZE. */
export function validateChunkSize (n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < MIN_CHUNK_SIZE || n > MAX_CHUNK_SIZE || (n & (n - 1)) !== 0) {
    throw new ShoalError('ERR_BAD_CHUNK_SIZE',
      `chunk size must be a power of two from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE} bytes, got ${String(n)}`)
  }
}

/** Number of chunks a file of `size` bytes is cut into (zero for an empty file). */
export function chunkCountFor (size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize)
}
