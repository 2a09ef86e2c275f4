import { ShoalError } from '../util/shoal-error.js'

/** Every code a ManifestError carries; the CLI exit code and the control API status map these. */
export const ManifestErrorCode = {
  /** Not a well-formed manifest: bad CBOR, wrong shape, a rule broken (duplicates, clashes, sizes). */
  BAD_MANIFEST: 'ERR_BAD_MANIFEST',
  BAD_MANIFEST_VERSION: 'ERR_BAD_MANIFEST_VERSION',
  BAD_CID: 'ERR_BAD_CID',
  CID_MISMATCH: 'ERR_CID_MISMATCH',
  /** Over MAX_MANIFEST_BYTES, or more CBOR items than the decoder is allowed to build. */
  MANIFEST_TOO_LARGE: 'ERR_MANIFEST_TOO_LARGE',
  /** An unsafe path or path segment (absolute, `..`, NUL, reserved name, segment over NAME_MAX...). */
  BAD_PATH: 'ERR_BAD_PATH',
  /** A path with more than MAX_PATH_SEGMENTS segments. */
  PATH_TOO_DEEP: 'ERR_PATH_TOO_DEEP',
  /** A path longer than MAX_PATH_BYTES. */
  PATH_TOO_LONG: 'ERR_PATH_TOO_LONG',
  /** File and directory paths together longer than MAX_TOTAL_PATH_BYTES. */
  MANIFEST_PATHS_TOO_LARGE: 'ERR_MANIFEST_PATHS_TOO_LARGE',
  BAD_CHUNK_SIZE: 'ERR_BAD_CHUNK_SIZE'
} as const

/**
 * Raised for every manifest or CID that cannot be trusted: a bad structure, a hash mismatch, an unsafe
 * path, a bound exceeded. Callers that only care "is this manifest unusable" can test
 * `instanceof ManifestError`; the `code` (one of ManifestErrorCode) says which check failed.
 */
export class ManifestError extends ShoalError {}
