import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { equals } from 'uint8arrays/equals'
import { checkCborBounds } from './check-cbor-bounds.js'
import { DAG_CBOR_CODE, DIGEST_LENGTH, MAX_MANIFEST_BYTES, SHA2_256_CODE } from './constants.js'
import { ManifestError, ManifestErrorCode } from './manifest-error.js'
import { sha256 } from './sha256.js'
import { validateManifest } from './validate-manifest.js'
import type { Manifest } from './manifest.js'

/** The encoded form of a manifest together with the CID naming it. */
export interface EncodedManifest {
  bytes: Uint8Array
  cid: CID
}

/** CIDv1 (dag-cbor, sha2-256) of already-encoded manifest bytes. */
export function manifestCid (bytes: Uint8Array): CID {
  return CID.createV1(DAG_CBOR_CODE, Digest.create(SHA2_256_CODE, sha256(bytes)))
}

/**
 * Encodes a manifest as dag-cbor and computes its CID. The manifest is validated first so we never
 * publish something a receiver would reject.
 */
export function encodeManifest (manifest: Manifest): EncodedManifest {
  const valid = validateManifest({
    version: manifest.version,
    name: manifest.name,
    size: manifest.size,
    chunkSize: manifest.chunkSize,
    files: manifest.files.map(f => ({ path: f.path, size: f.size, chunks: f.chunks })),
    directories: manifest.directories
  })
  // Buffers (from node:crypto) would encode the same, but plain Uint8Arrays keep the input canonical.
  const plain = {
    ...valid,
    files: valid.files.map(f => ({
      path: f.path,
      size: f.size,
      chunks: f.chunks.map(c => c.constructor === Uint8Array ? c : new Uint8Array(c))
    }))
  }
  const bytes = dagCbor.encode(plain)
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new ManifestError(ManifestErrorCode.MANIFEST_TOO_LARGE,
      `manifest is ${bytes.length} bytes, over the ${MAX_MANIFEST_BYTES} byte limit; use a larger chunk size`)
  }
  // never publish what every receiver would refuse to decode (e.g. over a million tiny files)
  checkCborBounds(bytes)
  return { bytes, cid: manifestCid(bytes) }
}

/** Throws ERR_BAD_CID unless `cid` is a CIDv1 naming dag-cbor bytes by a sha2-256 digest. */
export function checkManifestCid (cid: CID): void {
  if (cid.version !== 1) throw new ManifestError(ManifestErrorCode.BAD_CID, `content ID must be a CIDv1, got CIDv${cid.version}`)
  if (cid.code !== DAG_CBOR_CODE) {
    throw new ManifestError(ManifestErrorCode.BAD_CID, `content ID must use the dag-cbor codec (0x71), got 0x${cid.code.toString(16)}`)
  }
  if (cid.multihash.code !== SHA2_256_CODE || cid.multihash.digest.length !== DIGEST_LENGTH) {
    throw new ManifestError(ManifestErrorCode.BAD_CID, `content ID must use a ${DIGEST_LENGTH}-byte sha2-256 hash, got hash 0x${cid.multihash.code.toString(16)}`)
  }
}

/**
 * Verifies `bytes` against `cid` and decodes them into a validated manifest. Every failure is a
 * ManifestError; nothing is trusted before the hash matches. Time and heap are linear in the size of
 * `bytes`, whatever they contain (bounded by MAX_MANIFEST_BYTES, MAX_MANIFEST_ITEMS and the path bounds).
 */
export function decodeManifest (bytes: Uint8Array, cid: CID): Manifest {
  if (!(bytes instanceof Uint8Array)) throw new ManifestError(ManifestErrorCode.BAD_MANIFEST, 'manifest bytes must be a Uint8Array')
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new ManifestError(ManifestErrorCode.MANIFEST_TOO_LARGE, `manifest is ${bytes.length} bytes, over the ${MAX_MANIFEST_BYTES} byte limit`)
  }
  checkManifestCid(cid)
  const actual = sha256(bytes)
  const expected = cid.multihash.digest
  if (!equals(actual, expected)) {
    throw new ManifestError(ManifestErrorCode.CID_MISMATCH, `manifest bytes do not hash to ${cid.toString()}; the peer sent the wrong or corrupted data`)
  }
  // Bounds the decoder's work and heap before it runs: the CID proves only who chose the bytes.
  checkCborBounds(bytes)
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (err) {
    throw new ManifestError(ManifestErrorCode.BAD_MANIFEST, `manifest is not valid dag-cbor: ${(err as Error)?.message ?? String(err)}`)
  }
  return validateManifest(value)
}
