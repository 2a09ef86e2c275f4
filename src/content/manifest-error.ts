import { pickCodes, ShoalError } from '../errors.js'

/** Every code a ManifestError carries (their meanings are in src/errors.ts). */
export const ManifestErrorCode = pickCodes(
  'BAD_MANIFEST', 'BAD_MANIFEST_VERSION', 'BAD_CID', 'CID_MISMATCH', 'MANIFEST_TOO_LARGE', 'BAD_PATH', 'PATH_TOO_DEEP',
  'PATH_TOO_LONG', 'MANIFEST_PATHS_TOO_LARGE', 'BAD_CHUNK_SIZE'
)

/**
 * Raised for every manifest or CID that cannot be trusted: a bad structure, a hash mismatch, an unsafe
 * path, a bound exceeded. Callers that only care "is this manifest unusable" can test
 * `instanceof ManifestError`; the `code` (one of ManifestErrorCode) says which check failed.
 */
export class ManifestError extends ShoalError {}
