import { createHash } from 'node:crypto'

/** sha2-256 digest of `bytes`, as a plain Uint8Array (a view, not a Buffer: it encodes like any other bytes). */
export function sha256 (bytes: Uint8Array): Uint8Array {
  const digest = createHash('sha256').update(bytes).digest()
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)
}
