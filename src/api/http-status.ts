import { ErrorCode, isShoalError, type ShoalErrorCode } from '../errors.js'

/**
 * The HTTP status of every ShoalError code; typed over the whole list, so a new code must be added
 * here. 4xx: the caller's request or content is at fault; 5xx: this node; 502/504: a peer or the
 * daemon behind the client did not deliver.
 */
export const HTTP_STATUS_OF: Readonly<Record<ShoalErrorCode, number>> = {
  // the node stopped or the content was removed while the request was served
  [ErrorCode.ABORTED]: 503,
  [ErrorCode.INTERNAL]: 500,
  [ErrorCode.BAD_CONFIG]: 400,
  [ErrorCode.NOT_STARTED]: 503,
  [ErrorCode.DEMO_MISMATCH]: 500,

  [ErrorCode.UNAUTHORIZED]: 401,
  [ErrorCode.FORBIDDEN_HOST]: 403,
  [ErrorCode.FORBIDDEN_ORIGIN]: 403,
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ErrorCode.PATH_NOT_ALLOWED]: 403,
  [ErrorCode.BAD_TOKEN_FILE]: 500,
  [ErrorCode.BAD_REQUEST]: 400,
  [ErrorCode.NO_ROUTE]: 404,
  [ErrorCode.TOO_MANY_STREAMS]: 503,
  [ErrorCode.DAEMON]: 502,

  [ErrorCode.RANGE_NOT_SATISFIABLE]: 416,
  [ErrorCode.NO_SUCH_FILE]: 404,

  [ErrorCode.BAD_CID]: 400,
  [ErrorCode.BAD_MANIFEST]: 422,
  [ErrorCode.BAD_MANIFEST_VERSION]: 422,
  [ErrorCode.CID_MISMATCH]: 422,
  [ErrorCode.MANIFEST_TOO_LARGE]: 422,
  [ErrorCode.BAD_PATH]: 422,
  [ErrorCode.PATH_TOO_DEEP]: 422,
  [ErrorCode.PATH_TOO_LONG]: 422,
  [ErrorCode.MANIFEST_PATHS_TOO_LARGE]: 422,
  [ErrorCode.BAD_CHUNK_SIZE]: 400,
  [ErrorCode.UNSUPPORTED_FILE]: 422,
  [ErrorCode.SOURCE_CHANGED]: 422,

  // a path the caller named that the daemon cannot read or write
  [ErrorCode.UNREADABLE]: 400,
  [ErrorCode.NOT_WRITABLE]: 400,
  [ErrorCode.DISK_FULL]: 507,
  [ErrorCode.IO]: 500,
  [ErrorCode.UNSAFE_PATH]: 400,
  [ErrorCode.ALREADY_EXISTS]: 409,
  [ErrorCode.NOT_HELD]: 404,
  [ErrorCode.CHUNK_MISMATCH]: 502,
  [ErrorCode.BAD_INDEX]: 500,
  [ErrorCode.BAD_LAYOUT]: 422,
  [ErrorCode.STORE_CLOSED]: 503,
  [ErrorCode.BAD_DATA_DIR]: 500,

  [ErrorCode.BAD_IDENTITY]: 500,
  [ErrorCode.BAD_SWARM_KEY]: 500,
  [ErrorCode.NET_START]: 500,
  [ErrorCode.PORT_IN_USE]: 500,
  [ErrorCode.BOOTSTRAP_UNREACHABLE]: 504,
  [ErrorCode.NO_PEERS]: 504,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.BAD_ANNOUNCE]: 502,
  [ErrorCode.BAD_BITFIELD]: 502,
  [ErrorCode.ALREADY_JOINED]: 500,
  [ErrorCode.XFER_REJECTED]: 502,
  [ErrorCode.XFER_STREAM]: 502,
  [ErrorCode.XFER_PROTOCOL]: 502,

  [ErrorCode.PEER_TIMEOUT]: 504,
  [ErrorCode.PEER_DISCONNECTED]: 502,
  [ErrorCode.PEER_BUSY]: 502,
  [ErrorCode.ASK_ELSEWHERE]: 502,
  [ErrorCode.REQUEST_CANCELLED]: 500,
  [ErrorCode.SWARM_STATE]: 500,
  [ErrorCode.UPSTREAM]: 502,
  [ErrorCode.DIGEST_MISMATCH]: 502
}

/** The HTTP status of an error met while serving a request: 500 for anything not a ShoalError. */
export function statusFor (err: unknown): number {
  if (!isShoalError(err) || !Object.hasOwn(HTTP_STATUS_OF, err.code)) return 500
  return HTTP_STATUS_OF[err.code]
}
