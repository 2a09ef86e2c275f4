import { ShoalError } from '../util/shoal-error.js'

/**
 * Raised for every manifest or CID that cannot be trusted: a bad structure, a hash mismatch, an unsafe
 * path. Callers that only care "is this manifest unusable" can test `instanceof ManifestError`; the
 * `code` says which check failed (ERR_BAD_MANIFEST, ERR_BAD_MANIFEST_VERSION, ERR_CID_MISMATCH,
 * ERR_MANIFEST_TOO_LARGE, ERR_BAD_PATH, ERR_BAD_CHUNK_SIZE).
 */
export class ManifestError extends ShoalError {}
