import { ErrorCode, ShoalError } from '../errors.js'

/** The operation was aborted through its signal. */
export class AbortedError extends ShoalError {
  constructor (message = 'the operation was aborted') {
    super(ErrorCode.ABORTED, message)
  }
}

/** A chunk request took much longer than the peer's measured rate predicts. */
export class RequestTimeoutError extends ShoalError {
  constructor (peer: string, index: number, ms: number) {
    super(ErrorCode.PEER_TIMEOUT, `peer ${peer} did not deliver chunk ${index} within ${Math.round(ms)} ms; it will be asked less and dropped after repeated timeouts`)
  }
}

/** A duplicate endgame request lost the race: another peer delivered the chunk first. */
export class RequestCancelledError extends ShoalError {
  constructor (index: number, why: string) {
    super(ErrorCode.REQUEST_CANCELLED, `request for chunk ${index} cancelled: ${why}`)
  }
}

/**
 * Thrown by a SwarmTransport when the peer went away. The session re-queues the chunk and forgets the
 * peer until it is added again. Transports may throw any error carrying this `code`.
 */
export class PeerDisconnectedError extends ShoalError {
  constructor (peer: string) {
    super(ErrorCode.PEER_DISCONNECTED, `peer ${peer} disconnected`)
  }
}

/** Thrown by a SwarmTransport when the peer refused for lack of upload slots; it is retried later. */
export class PeerBusyError extends ShoalError {
  constructor (peer: string) {
    super(ErrorCode.PEER_BUSY, `peer ${peer} is busy; it will be asked again later`)
  }
}

/** Thrown by a SwarmTransport when the peer says it does not hold the chunk (its announcement was stale). */
export class ChunkNotHeldError extends ShoalError {
  constructor (peer: string, index: number) {
    super(ErrorCode.NOT_HELD, `peer ${peer} does not hold chunk ${index}`)
  }
}

/** A session was used the wrong way (run twice, bad options). */
export class SwarmStateError extends ShoalError {
  constructor (message: string) {
    super(ErrorCode.SWARM_STATE, message)
  }
}
