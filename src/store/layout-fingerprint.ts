import { createHash } from 'node:crypto'
import type { ContentLayout } from '../content/index.js'
import { FINGERPRINT_LENGTH } from './constants.js'

/** The FINGERPRINT_LENGTH bytes that tie persisted state (journal, snapshot, markers) to this exact layout. */
export function layoutFingerprint (layout: ContentLayout): Uint8Array {
  const hash = createHash('sha256')
  hash.update(`shoal-store-layout\0${layout.chunkSize}\0${layout.files.length}\0`)
  for (const file of layout.files) {
    hash.update(`${file.path}\0${file.size}\0`)
    for (const digest of file.chunks) hash.update(digest)
  }
  return new Uint8Array(hash.digest().subarray(0, FINGERPRINT_LENGTH))
}
