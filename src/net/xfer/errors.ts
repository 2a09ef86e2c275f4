import { ShoalError } from '../../util/shoal-error.js'

/** Why a peer refused a request (the wire's RejectReason, lower-cased). */
export type XferRejectReason =
  | 'not-held' | 'busy' | 'bad-request' | 'unknown-content' | 'bad-index'
  | 'source-changed' | 'cancelled' | 'internal' | 'shutting-down' | 'unspecified'

/** The peer answered with REJECT; `reason` tells the scheduler whether asking again can help. */
export class XferRejectedError extends ShoalError {
  readonly reason: XferRejectReason

  constructor (reason: XferRejectReason, message: string) {
    super('ERR_XFER_REJECTED', `peer rejected the request (${reason})${message === '' ? '' : `: ${message}`}; ask another peer`)
    this.reason = reason
  }
}

/** No answer in time: the request or the whole stream stalled. */
export class XferTimeoutError extends ShoalError {
  constructor (message: string, options?: ErrorOptions) {
    super('ERR_XFER_TIMEOUT', `${message}; the peer may be overloaded or gone, ask another peer`, options)
  }
}

/** The stream failed, closed or carried malformed frames; outstanding requests should be re-queued. */
export class XferStreamError extends ShoalError {
  constructor (message: string, options?: ErrorOptions) {
    super('ERR_XFER_STREAM', `${message}; re-queue the request, on this peer after reconnecting or elsewhere`, options)
  }
}

/** The caller's signal aborted the request (a CANCEL was sent). */
export class XferAbortedError extends ShoalError {
  constructor (options?: ErrorOptions) {
    super('ERR_XFER_ABORTED', 'the request was aborted by the caller', options)
  }
}

/** Input on the wire broke the protocol; the stream carrying it is aborted with this error. */
export class XferProtocolError extends ShoalError {
  constructor (message: string, options?: ErrorOptions) {
    super('ERR_XFER_PROTOCOL', message, options)
  }
}
