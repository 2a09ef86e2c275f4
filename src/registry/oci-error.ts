/** The error codes of the OCI distribution spec the mirror answers with. */
export type OciErrorCode = 'BLOB_UNKNOWN' | 'MANIFEST_UNKNOWN' | 'NAME_UNKNOWN' | 'NAME_INVALID' | 'DIGEST_INVALID' | 'MANIFEST_INVALID' | 'UNSUPPORTED' | 'DENIED' | 'UNAUTHORIZED' | 'TOOMANYREQUESTS' | 'UNAVAILABLE'

/**
 * A refusal in the registry protocol's own vocabulary (`{"errors":[{code,message}]}` with a status).
 * Not a ShoalError: these codes are the OCI spec's wire words, answered to registry clients only;
 * failures of shoal itself under them are ShoalErrors (ERR_UPSTREAM, ERR_DIGEST_MISMATCH, ...).
 */
export class OciError extends Error {
  readonly status: number
  readonly code: OciErrorCode

  constructor (status: number, code: OciErrorCode, message: string) {
    super(message)
    this.name = 'OciError'
    this.status = status
    this.code = code
  }

  /** The answer body of the spec. */
  body (): { errors: Array<{ code: string, message: string }> } {
    return { errors: [{ code: this.code, message: this.message }] }
  }
}
