import { pickCodes } from '../errors.js'

/**
 * Codes of the errors the control API itself raises (the node's own codes pass through); their
 * meanings are in src/errors.ts.
 */
export const ApiErrorCode = pickCodes(
  'UNAUTHORIZED', 'FORBIDDEN_HOST', 'FORBIDDEN_ORIGIN', 'UNSUPPORTED_MEDIA_TYPE', 'PATH_NOT_ALLOWED', 'BAD_TOKEN_FILE',
  'BAD_REQUEST', 'NO_ROUTE', 'TOO_MANY_STREAMS'
)
