export {
  DEFAULT_CHUNK_SIZE, MIN_CHUNK_SIZE, MAX_CHUNK_SIZE, MANIFEST_VERSION, MAX_MANIFEST_BYTES,
  MAX_MANIFEST_NESTING, MAX_MANIFEST_ITEMS, MAX_MANIFEST_BYTE_STRINGS, MAX_PATH_BYTES, MAX_SEGMENT_BYTES,
  MAX_PATH_SEGMENTS, MAX_TOTAL_PATH_BYTES, DAG_CBOR_CODE, SHA2_256_CODE, DIGEST_LENGTH, HASH_READ_BYTES
} from './constants.js'
export type { Manifest } from './manifest.js'
export type { ContentLayout, ContentFile } from './content-layout.js'
export { ManifestError, ManifestErrorCode } from './manifest-error.js'
export { checkCborBounds } from './check-cbor-bounds.js'
export type { CborBounds } from './check-cbor-bounds.js'
export { validateChunkSize, chunkCountFor } from './chunk-size.js'
export { hashFile, hashFileHandle } from './hash-file.js'
export type { HashOptions, HashedFile } from './hash-file.js'
export { buildManifest } from './build-manifest.js'
export type { BuildManifestOptions, BuiltManifest } from './build-manifest.js'
export { encodeManifest, decodeManifest, manifestCid, checkManifestCid } from './manifest-codec.js'
export type { EncodedManifest } from './manifest-codec.js'
export { validateManifest } from './validate-manifest.js'
export { validateManifestPath, validatePathSegment, safeJoin } from './manifest-path.js'
export { parseCid } from './parse-cid.js'
export { ChunkLayout, verifyChunk } from './chunk-layout.js'
export { findFile } from './find-file.js'
export type { ChunkLocation } from './chunk-layout.js'
