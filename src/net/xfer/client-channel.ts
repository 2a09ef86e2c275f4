import { encodeFrame, FrameDecoder } from './frame-codec.js'
import { XferAbortedError, XferProtocolError, XferRejectedError, XferStreamError, XferTimeoutError } from './errors.js'
import { MAX_EXCLUDED_PEERS } from './constants.js'
import { Frame } from './pb/xfer.js'
import type { XferRejectReason } from './errors.js'
import type { ChunkRequestOptions, XferBitfield } from './types.js'
import type { Logger, Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { Uint8ArrayList } from 'uint8arraylist'
import { PartialFrameTimer } from './partial-frame-timer.js'
import type { ChunkBufferPool } from './chunk-buffer-pool.js'

/** Limits and timers a channel needs, already resolved against the defaults. */
export interface XferChannelOptions {
  maxFrameSize: number
  maxChunkSize: number
  maxManifestSize: number
  requestTimeout: number
  progressTimeout: number
  frameTimeout: number
  idleTimeout: number
  /** Where chunk bodies come from; the consumer gives them back with XferClient.releaseChunk. */
  chunkPool: ChunkBufferPool
}

type RequestKind = 'manifest' | 'bitfield' | 'chunk'

/** The answer each kind of request resolves to. */
export interface XferAnswer {
  manifest: Uint8Array
  bitfield: XferBitfield
  chunk: Uint8Array
}

interface OutstandingRequest {
  id: number
  kind: RequestKind
  index: number
  /** Set once the caller gave up: frames still arriving for it are parsed and dropped. */
  abandoned: boolean
  /** The request frame reached the stream (a CANCEL is only worth sending then). */
  sent: boolean
  /** Total body length announced by the MANIFEST/CHUNK header, -1 before it arrives. */
  length: number
  received: number
  body?: Uint8Array
  resolve(value: unknown): void
  reject(err: Error): void
}

const REASONS: Record<Frame.RejectReason, XferRejectReason> = {
  [Frame.RejectReason.UNSPECIFIED]: 'unspecified',
  [Frame.RejectReason.NOT_HELD]: 'not-held',
  [Frame.RejectReason.BUSY]: 'busy',
  [Frame.RejectReason.BAD_REQUEST]: 'bad-request',
  [Frame.RejectReason.UNKNOWN_CONTENT]: 'unknown-content',
  [Frame.RejectReason.BAD_INDEX]: 'bad-index',
  [Frame.RejectReason.SOURCE_CHANGED]: 'source-changed',
  [Frame.RejectReason.CANCELLED]: 'cancelled',
  [Frame.RejectReason.INTERNAL]: 'internal',
  [Frame.RejectReason.SHUTTING_DOWN]: 'shutting-down',
  [Frame.RejectReason.ELSEWHERE]: 'elsewhere'
}

/**
 * The client end of one stream to one peer for one content. Requests are pipelined: each gets a
 * request id, and frames coming back are matched by id, so any number may be in flight. Every
 * request ends with exactly one terminal frame from the server (a complete body or a REJECT), which
 * is how ids of abandoned requests are retired.
 */
export class XferClientChannel {
  readonly #cid: CID
  readonly #options: XferChannelOptions
  readonly #log: Logger
  readonly #onClosed: (channel: XferClientChannel) => void
  readonly #decoder: FrameDecoder
  readonly #requests = new Map<number, OutstandingRequest>()
  /** Frames written before the stream finished opening. */
  #queued: Array<{ frame: Uint8ArrayList, request?: OutstandingRequest }> = []
  #stream?: Stream
  #nextId = 1
  #closedWith?: Error
  #progressTimer?: ReturnType<typeof setTimeout>
  readonly #frameTimer: PartialFrameTimer
  #idleTimer?: ReturnType<typeof setTimeout>

  constructor (cid: CID, open: Promise<Stream>, options: XferChannelOptions, log: Logger, onClosed: (channel: XferClientChannel) => void) {
    this.#cid = cid
    this.#options = options
    this.#log = log
    this.#onClosed = onClosed
    this.#decoder = new FrameDecoder(options.maxFrameSize)
    this.#frameTimer = new PartialFrameTimer(options.frameTimeout, () => {
      this.#fail(new XferTimeoutError(`a frame stayed incomplete for ${options.frameTimeout} ms`))
    })
    open.then(stream => { this.#attach(stream) }, err => {
      this.#fail(new XferStreamError(`could not open a transfer stream: ${(err as Error).message}`, { cause: err }))
    })
  }

  /** True once the channel can take no more requests. */
  get closed (): boolean {
    return this.#closedWith !== undefined
  }

  /** Requests whose answer has not fully arrived (including abandoned ones). */
  get outstanding (): number {
    return this.#requests.size
  }

  /** Sends a request and resolves with its answer. */
  async request<K extends RequestKind> (kind: K, index: number, options: ChunkRequestOptions = {}): Promise<XferAnswer[K]> {
    if (this.#closedWith !== undefined) throw this.#closedWith
    const signal = options.signal ?? AbortSignal.timeout(this.#options.requestTimeout)
    if (signal.aborted) throw abortError(signal)

    const id = this.#nextId++
    let resolve!: (value: XferAnswer[K]) => void
    let reject!: (err: Error) => void
    // Promise.withResolvers is not in the ES2023 lib this project compiles against.
    const promise = new Promise<XferAnswer[K]>((res, rej) => { resolve = res; reject = rej })
    const request: OutstandingRequest = {
      id, kind, index, abandoned: false, sent: false, length: -1, received: 0,
      resolve: resolve as (value: unknown) => void,
      reject
    }
    this.#requests.set(id, request)
    this.#clearIdle()
    this.#armProgress()

    const onAbort = (): void => { this.#abandon(request, abortError(signal)) }
    signal.addEventListener('abort', onAbort, { once: true })
    const type = kind === 'manifest' ? Frame.Type.GET_MANIFEST : kind === 'bitfield' ? Frame.Type.GET_BITFIELD : Frame.Type.REQUEST
    this.#write(encodeFrame({ type, requestId: id, cid: this.#cid.bytes, index, ...(kind === 'chunk' ? askFields(options) : {}) }), request)
    try {
      return await promise
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  /** Closes the stream; outstanding requests fail with `err` (ERR_XFER_STREAM by default). */
  close (err?: Error): void {
    this.#fail(err ?? new XferStreamError('the transfer stream was closed locally'), err === undefined)
  }

  #attach (stream: Stream): void {
    if (this.#closedWith !== undefined) {
      stream.abort(this.#closedWith)
      return
    }
    this.#stream = stream
    stream.addEventListener('message', (evt: StreamMessageEvent) => { this.#onData(evt.data) })
    stream.addEventListener('close', (evt: StreamCloseEvent) => {
      this.#fail(new XferStreamError(`the transfer stream closed${evt.error === undefined ? '' : `: ${evt.error.message}`}`, { cause: evt.error }))
    })
    stream.addEventListener('remoteCloseWrite', () => {
      this.#fail(new XferStreamError('the peer closed the transfer stream'))
    })
    const queued = this.#queued
    this.#queued = []
    for (const { frame, request } of queued) {
      this.#send(frame)
      if (request !== undefined) request.sent = true
    }
    this.#armProgress()
    if (this.#requests.size === 0) this.#armIdle()
  }

  #write (frame: Uint8ArrayList, request?: OutstandingRequest): void {
    if (this.#stream === undefined) {
      this.#queued.push({ frame, request })
      return
    }
    this.#send(frame)
    if (request !== undefined) request.sent = true
  }

  #send (frame: Uint8ArrayList): void {
    try {
      // Requests and cancels are a few dozen bytes: they never wait for drain.
      this.#stream?.send(frame)
    } catch (err) {
      this.#fail(new XferStreamError(`could not write to the transfer stream: ${(err as Error).message}`, { cause: err }))
    }
  }

  #abandon (request: OutstandingRequest, err: Error): void {
    if (request.abandoned || this.#requests.get(request.id) !== request) return
    request.abandoned = true
    // never handed out, so nobody else holds it
    if (request.kind === 'chunk' && request.body !== undefined) this.#options.chunkPool.release(request.body)
    request.body = undefined
    request.reject(err)
    if (!request.sent) {
      // Never reached the peer: drop the queued frame instead of cancelling it.
      this.#requests.delete(request.id)
      this.#queued = this.#queued.filter(entry => entry.request !== request)
      this.#settled()
      return
    }
    this.#write(encodeFrame({ type: Frame.Type.CANCEL, requestId: request.id }))
  }

  #onData (data: StreamMessageEvent['data']): void {
    this.#armProgress()
    try {
      for (const { frame, piece } of this.#decoder.pushDetached(data)) this.#onFrame(frame, piece)
    } catch (err) {
      const cause = err instanceof XferProtocolError ? err : new XferProtocolError(`bad frame: ${(err as Error).message}`, { cause: err })
      this.#log.error('protocol error from peer - %e', cause)
      this.#fail(new XferStreamError(`the peer broke the transfer protocol: ${cause.message}`, { cause }))
      return
    }
    this.#frameTimer.update(this.#decoder.hasPartialFrame)
  }

  /** `piece`: a DATA frame's piece still in the buffers it arrived in (frame.data is empty then). */
  #onFrame (frame: Frame, piece?: Uint8ArrayList): void {
    const request = this.#requests.get(frame.requestId)
    if (request === undefined) throw new XferProtocolError(`${frame.type} for request ${frame.requestId}, which is not outstanding`)
    switch (frame.type) {
      case Frame.Type.MANIFEST:
      case Frame.Type.CHUNK: {
        const expected = request.kind === 'manifest' ? Frame.Type.MANIFEST : Frame.Type.CHUNK
        if (frame.type !== expected || request.length !== -1) throw new XferProtocolError(`unexpected ${frame.type} for a ${request.kind} request`)
        if (frame.type === Frame.Type.CHUNK && frame.index !== request.index) throw new XferProtocolError(`CHUNK ${frame.index} answers a request for ${request.index}`)
        const max = request.kind === 'manifest' ? this.#options.maxManifestSize : this.#options.maxChunkSize
        if (frame.length > max) throw new XferProtocolError(`${request.kind} of ${frame.length} bytes exceeds the limit of ${max}`)
        request.length = frame.length
        if (frame.length === 0) this.#complete(request, new Uint8Array(0))
        return
      }
      case Frame.Type.DATA: {
        if (request.length === -1) throw new XferProtocolError('DATA before its header')
        const pieceLength = piece?.byteLength ?? frame.data.byteLength
        if (frame.offset !== request.received || pieceLength === 0 || request.received + pieceLength > request.length) {
          throw new XferProtocolError(`DATA at ${frame.offset}+${pieceLength} does not continue ${request.received}/${request.length}`)
        }
        if (!request.abandoned) {
          // A chunk goes into a pooled buffer even when it arrived in one piece: the received
          // buffers are young garbage at once, while the body lives until written (ChunkBufferPool).
          request.body ??= request.kind === 'chunk' ? this.#options.chunkPool.take(request.length) : new Uint8Array(request.length)
          if (piece === undefined) {
            request.body.set(frame.data, request.received)
          } else {
            let at = request.received
            for (const buf of piece) {
              request.body.set(buf, at)
              at += buf.byteLength
            }
          }
        }
        request.received += pieceLength
        if (request.received === request.length) this.#complete(request, request.body ?? new Uint8Array(0))
        return
      }
      case Frame.Type.BITFIELD: {
        if (request.kind !== 'bitfield') throw new XferProtocolError(`unexpected BITFIELD for a ${request.kind} request`)
        if (frame.data.byteLength !== Math.ceil(frame.chunkCount / 8)) {
          throw new XferProtocolError(`bitfield of ${frame.chunkCount} chunks carries ${frame.data.byteLength} bytes`)
        }
        this.#complete(request, { chunkCount: frame.chunkCount, bytes: frame.data, origin: frame.origin })
        return
      }
      case Frame.Type.REJECT: {
        this.#requests.delete(request.id)
        if (!request.abandoned) request.reject(new XferRejectedError(REASONS[frame.reason], frame.message))
        this.#settled()
        return
      }
      default:
        throw new XferProtocolError(`a server does not send ${frame.type}`)
    }
  }

  #complete (request: OutstandingRequest, value: unknown): void {
    this.#requests.delete(request.id)
    if (!request.abandoned) request.resolve(value)
    this.#settled()
  }

  #settled (): void {
    if (this.#requests.size === 0) {
      clearTimeout(this.#progressTimer)
      this.#progressTimer = undefined
      this.#armIdle()
    }
  }

  /** Ends the channel; `graceful` closes the stream (flushing writes) instead of resetting it. */
  #fail (err: Error, graceful = false): void {
    if (this.#closedWith !== undefined) return
    this.#closedWith = err
    clearTimeout(this.#progressTimer)
    this.#frameTimer.clear()
    clearTimeout(this.#idleTimer)
    for (const request of this.#requests.values()) {
      if (!request.abandoned) request.reject(err)
    }
    this.#requests.clear()
    this.#queued = []
    const stream = this.#stream
    if (stream !== undefined && stream.status === 'open') {
      if (graceful && stream.writeStatus === 'writable') {
        stream.close().catch(closeErr => { stream.abort(closeErr as Error) })
      } else {
        stream.abort(err)
      }
    }
    this.#onClosed(this)
  }

  #armProgress (): void {
    if (this.#stream === undefined || this.#requests.size === 0) return
    clearTimeout(this.#progressTimer)
    this.#progressTimer = setTimeout(() => {
      this.#fail(new XferTimeoutError(`nothing arrived for ${this.#options.progressTimeout} ms with ${this.#requests.size} request(s) outstanding`))
    }, this.#options.progressTimeout)
    this.#progressTimer.unref?.()
  }

  #armIdle (): void {
    if (this.#stream === undefined || this.#closedWith !== undefined) return
    clearTimeout(this.#idleTimer)
    this.#idleTimer = setTimeout(() => { this.close() }, this.#options.idleTimeout)
    this.#idleTimer.unref?.()
  }

  #clearIdle (): void {
    clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
  }
}

/** Maps an aborted signal to the error the caller sees. */
function abortError (signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new XferTimeoutError('the request timed out', { cause: reason })
  }
  return new XferAbortedError({ cause: reason })
}

/** REQUEST's last_resort and excluded fields, when there is something to say. */
function askFields (options: ChunkRequestOptions): Partial<Frame> {
  const excluded = options.excluded ?? []
  return {
    ...(options.lastResort === true ? { lastResort: true } : {}),
    ...(excluded.length === 0 ? {} : { excluded: excluded.slice(0, MAX_EXCLUDED_PEERS) })
  }
}
