import { ErrorCode, ShoalError, type ShoalErrorCode } from '../../errors.js'

/** Why a peer refused a request (the wire's RejectReason, lower-cased). */
export type XferRejectReason =
  | 'not-held' | 'busy' | 'bad-request' | 'unknown-content' | 'bad-index'
  | 'source-changed' | 'cancelled' | 'internal' | 'shutting-down' | 'elsewhere' | 'unspecified'

// A refusal that names a fact the rest of shoal already has a code for carries that code, so "the
// peer lacks the chunk" is ERR_NOT_HELD on the wire's far side as on the serving side.
const CODE_OF_REASON: Record<XferRejectReason, ShoalErrorCode> = {
  'not-held': ErrorCode.NOT_HELD,
  busy: ErrorCode.PEER_BUSY,
  // held, but try other holders first: the downloader keeps the peer's availability and comes back later
  elsewhere: ErrorCode.ASK_ELSEWHERE,
  'bad-index': ErrorCode.BAD_INDEX,
  'source-changed': ErrorCode.SOURCE_CHANGED,
  // the downloader counts an unknown-content refusal as a strike, a not-held one as a stale announcement
  'unknown-content': ErrorCode.XFER_REJECTED,
  'bad-request': ErrorCode.XFER_REJECTED,
  cancelled: ErrorCode.XFER_REJECTED,
  internal: ErrorCode.XFER_REJECTED,
  'shutting-down': ErrorCode.XFER_REJECTED,
  unspecified: ErrorCode.XFER_REJECTED
}

/** The peer answered with REJECT; `reason` tells the scheduler whether asking again can help. */
export class XferRejectedError extends ShoalError {
  readonly reason: XferRejectReason

  constructor (reason: XferRejectReason, message: string) {
    super(CODE_OF_REASON[reason], `peer rejected the request (${reason})${message === '' ? '' : `: ${message}`}; ask another peer`)
    this.reason = reason
  }
}

/** No answer in time: the request or the whole stream stalled. */
export class XferTimeoutError extends ShoalError {
  constructor (message: string, options?: ErrorOptions) {
    super(ErrorCode.PEER_TIMEOUT, `${message}; the peer may be overloaded or gone, ask another peer`, options)
  }
}

/** The stream failed, closed or carried malformed frames; outstanding requests should be re-queued. */
export class XferStreamError extends ShoalError {
  constructor (message: string, options?: ErrorOptions) {
    super(ErrorCode.XFER_STREAM, `${message}; re-queue the request, on this peer after reconnecting or elsewhere`, options)
  }
}

/** The caller's signal aborted the request (a CANCEL was sent). */
export class XferAbortedError extends ShoalError {
  constructor (options?: ErrorOptions) {
    super(ErrorCode.ABORTED, 'the request was aborted by the caller', options)
  }
}

/** Input on the wire broke the protocol; the stream carrying it is aborted with this error. */
export class XferProtocolError extends ShoalError {
  constructor (message: string, options?: ErrorOptions) {
    super(ErrorCode.XFER_PROTOCOL, message, options)
  }
}
