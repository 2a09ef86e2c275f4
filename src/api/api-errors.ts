/**
 * Codes of the errors the control API itself raises (the node's own codes pass through). Each one is
 * mapped to an HTTP status in control-server.ts (statusFor) and an exit code in src/cli/exit-codes.ts.
 */
export const ApiErrorCode = {
  /** No or wrong bearer token. */
  UNAUTHORIZED: 'ERR_UNAUTHORIZED',
  /** The Host header names neither loopback, the bound address nor SHOAL_API_ALLOW_HOSTS (DNS rebinding). */
  FORBIDDEN_HOST: 'ERR_FORBIDDEN_HOST',
  /** A browser sent the request from a page whose origin is not in SHOAL_API_ALLOW_ORIGINS. */
  FORBIDDEN_ORIGIN: 'ERR_FORBIDDEN_ORIGIN',
  /** A request body that is not declared as application/json. */
  UNSUPPORTED_MEDIA_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  /** A path outside the roots of SHOAL_ALLOW_PATHS. */
  PATH_NOT_ALLOWED: 'ERR_PATH_NOT_ALLOWED',
  /** The token file is a symlink, not a regular file, not ours or readable by others. */
  BAD_TOKEN_FILE: 'ERR_BAD_TOKEN_FILE',
  /** Malformed request (URL, body). */
  BAD_REQUEST: 'ERR_BAD_REQUEST'
} as const
