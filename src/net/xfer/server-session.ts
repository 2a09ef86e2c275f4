import { CID } from 'multiformats/cid'
import { isShoalError } from '../../util/shoal-error.js'
import { MAX_EXCLUDED_PEERS, MAX_REJECT_MESSAGE_LENGTH } from './constants.js'
import { encodeDataFrame, encodeFrame, FrameDecoder } from './frame-codec.js'
import { XferProtocolError, XferTimeoutError } from './errors.js'
import { Frame } from './pb/xfer.js'
import { waitForSendCapacity } from './wait-for-send-capacity.js'
import type { XferContentSource } from './types.js'
import type { Logger, Stream, StreamMessageEvent } from '@libp2p/interface'
import { PartialFrameTimer } from './partial-frame-timer.js'

/** The wire reason for each refusal of XferContentSource.admit. */
const REASON_OF_VERDICT = {
  busy: Frame.RejectReason.BUSY,
  elsewhere: Frame.RejectReason.ELSEWHERE,
  'not-held': Frame.RejectReason.NOT_HELD
} as const

/** Limits and timers a session needs, already resolved against the defaults. */
export interface XferSessionOptions {
  maxFrameSize: number
  pieceSize: number
  sendLowWater: number
  frameTimeout: number
  idleTimeout: number
  maxQueuedRequests: number
  readAhead: number
  maxWriteBuffer: number
  maxUnansweredRequests: number
}

/** Raised on a stream whose client keeps sending requests without reading the answers. */
export class XferFloodError extends XferProtocolError {}

interface Job {
  id: number
  kind: 'manifest' | 'bitfield' | 'chunk'
  cid: CID
  index: number
  /** Aborts the job's chunk read (and throttle wait) when the client cancels. */
  controller: AbortController
  cancelled: boolean
  read?: Promise<Uint8Array>
  /** performance.now() at arrival, for the trace of manifest and bitfield answers */
  arrived: number
}

/** A rejection the session sends instead of an answer. */
class Refusal extends Error {
  constructor (readonly reason: Frame.RejectReason, message: string) {
    super(message)
  }
}

/** A chunk body written into the stream whose last byte may still wait in its write buffer. */
interface Unflushed {
  /** #written when its last byte was handed to the stream. */
  end: number
  cid: CID
  index: number
  bytes: number
}

interface PendingReject {
  id: number
  reason: Frame.RejectReason
  message: string
}

/**
 * The server end of one inbound stream. Chunk requests are queued and answered in arrival order,
 * one body at a time, so a slow chunk delays the ones behind it but the client's pipeline keeps the
 * link busy; manifest and bitfield requests go ahead of the queued chunks (not of the body on the
 * wire); chunk reads start `readAhead` requests early to overlap disk and network. Refusals
 * decided on arrival (busy, unknown content, malformed CID) are sent at once, out of order. A CANCEL
 * drops a queued request, or stops a body between two pieces; either way the request ends with
 * REJECT CANCELLED unless its body was already complete.
 *
 * Every frame, refusals included, waits for send capacity, so what a client that does not read can
 * make us hold is bounded by the write buffer cap and by maxUnansweredRequests; a client past the
 * latter is flooding and its stream is reset (onFlood tells the protocol, which counts per peer).
 */
export class XferServerSession {
  readonly #stream: Stream
  readonly #peer: string
  readonly #source: XferContentSource | undefined
  readonly #options: XferSessionOptions
  readonly #log: Logger
  readonly #onClosed: (session: XferServerSession) => void
  readonly #onFlood: (session: XferServerSession) => void
  /** Refusals decided on arrival that wait for send capacity; small records, not encoded frames. */
  readonly #pendingRejects: PendingReject[] = []
  #flushing = false
  readonly #decoder: FrameDecoder
  readonly #queue: Job[] = []
  readonly #jobs = new Map<number, Job>()
  readonly #controller = new AbortController()
  #pumping = false
  /** The job being answered; it has left the queue. */
  #current?: Job
  #closed = false
  #remoteDone = false
  /** Bytes handed to the stream so far (every frame); less writeBufferLength is what left it. */
  #written = 0
  /** Bodies handed to the stream and not yet past its write buffer, oldest first (onUploaded waits for that). */
  readonly #unflushed: Unflushed[] = []
  readonly #frameTimer: PartialFrameTimer
  #idleTimer?: ReturnType<typeof setTimeout>

  constructor (stream: Stream, peer: string, source: XferContentSource | undefined, options: XferSessionOptions, log: Logger, onClosed: (session: XferServerSession) => void, onFlood: (session: XferServerSession) => void = () => {}) {
    this.#stream = stream
    this.#peer = peer
    this.#source = source
    this.#options = options
    this.#log = log
    this.#onClosed = onClosed
    this.#onFlood = onFlood
    this.#decoder = new FrameDecoder(options.maxFrameSize)
    this.#frameTimer = new PartialFrameTimer(options.frameTimeout, () => {
      this.abort(new XferTimeoutError(`a frame from ${peer} stayed incomplete for ${options.frameTimeout} ms`))
    })
  }

  /** Starts reading requests. */
  start (): void {
    const stream = this.#stream
    stream.maxWriteBufferLength = this.#options.maxWriteBuffer
    stream.addEventListener('message', (evt: StreamMessageEvent) => { this.#onData(evt.data) })
    stream.addEventListener('close', () => { this.#finish() })
    // the write buffer shrank (the muxer took bytes) or emptied: bodies may have left it
    stream.addEventListener('drain', () => { this.#reportFlushed() })
    stream.addEventListener('idle', () => { this.#reportFlushed() })
    stream.addEventListener('remoteCloseWrite', () => {
      this.#remoteDone = true
      this.#maybeCloseWrite()
    })
    this.#armIdle()
  }

  /** The remote peer, as a string. */
  get peer (): string {
    return this.#peer
  }

  /** Resets the stream (node stopping, peer dropped). */
  abort (err: Error): void {
    this.#stream.abort(err)
    this.#finish()
  }

  #onData (data: StreamMessageEvent['data']): void {
    if (this.#closed) return
    try {
      for (const frame of this.#decoder.push(data)) this.#onFrame(frame)
    } catch (err) {
      const cause = err instanceof XferProtocolError ? err : new XferProtocolError(`bad frame: ${(err as Error).message}`, { cause: err })
      this.#log('closing stream from %s after a protocol error - %s', this.#peer, cause.message)
      this.abort(cause)
      if (cause instanceof XferFloodError) this.#onFlood(this)
      return
    }
    this.#frameTimer.update(this.#decoder.hasPartialFrame)
    this.#armIdle()
  }

  #onFrame (frame: Frame): void {
    switch (frame.type) {
      case Frame.Type.GET_MANIFEST:
      case Frame.Type.GET_BITFIELD:
      case Frame.Type.REQUEST:
        this.#onRequest(frame)
        return
      case Frame.Type.CANCEL:
        this.#onCancel(frame.requestId)
        return
      default:
        throw new XferProtocolError(`a client does not send ${frame.type}`)
    }
  }

  #onRequest (frame: Frame): void {
    const id = frame.requestId
    if (id === 0 || this.#jobs.has(id)) throw new XferProtocolError(`request id ${id} is zero or already outstanding`)
    if (this.#jobs.size + this.#pendingRejects.length >= this.#options.maxUnansweredRequests) {
      throw new XferFloodError(`more than ${this.#options.maxUnansweredRequests} requests unanswered: the client sends without reading`)
    }
    const kind = frame.type === Frame.Type.GET_MANIFEST ? 'manifest' : frame.type === Frame.Type.GET_BITFIELD ? 'bitfield' : 'chunk'
    let cid: CID
    try {
      cid = CID.decode(frame.cid)
    } catch {
      this.#reject(id, Frame.RejectReason.BAD_REQUEST, 'malformed CID')
      return
    }
    const source = this.#source
    if (source?.manifestBytes(cid) === undefined) {
      this.#reject(id, Frame.RejectReason.UNKNOWN_CONTENT, `this node does not serve ${cid.toString()}`)
      return
    }
    if (this.#jobs.size >= this.#options.maxQueuedRequests) {
      this.#reject(id, Frame.RejectReason.BUSY, `more than ${this.#options.maxQueuedRequests} requests queued on one stream`)
      return
    }
    if (kind === 'chunk' && source.admit !== undefined) {
      // excluded is the asker's word about others: bounded here, and only ever counted, never obeyed
      const excluded = frame.excluded.length === 0 ? undefined : frame.excluded.slice(0, MAX_EXCLUDED_PEERS)
      const verdict = source.admit(cid, this.#peer, frame.index, frame.lastResort, excluded)
      if (verdict !== 'ok') {
        this.#reject(id, REASON_OF_VERDICT[verdict], `chunk ${frame.index} refused: ${verdict}`)
        return
      }
    }
    const job: Job = { id, kind, cid, index: frame.index, controller: new AbortController(), cancelled: false, arrived: performance.now() }
    this.#jobs.set(id, job)
    this.#enqueue(job)
    this.#readAhead()
    if (!this.#pumping) void this.#pump()
  }

  /**
   * Chunks queue in arrival order; a manifest or bitfield request goes ahead of every queued chunk
   * (behind earlier such requests), so the answer a client needs to plan its requests does not wait
   * for seconds of bodies at one peer's share of a busy uplink (64 queued 256 KiB chunks at 2.4 MB/s
   * shared by 8 peers: 55 s).
   */
  #enqueue (job: Job): void {
    if (job.kind === 'chunk') {
      this.#queue.push(job)
      return
    }
    const firstChunk = this.#queue.findIndex(queued => queued.kind === 'chunk')
    if (firstChunk === -1) this.#queue.push(job)
    else this.#queue.splice(firstChunk, 0, job)
  }

  #onCancel (id: number): void {
    const job = this.#jobs.get(id)
    // Already answered: the CANCEL crossed the last frame on the wire, nothing to do.
    if (job === undefined || job.cancelled) return
    job.cancelled = true
    job.controller.abort()
    if (job !== this.#current) {
      this.#queue.splice(this.#queue.indexOf(job), 1)
      this.#jobs.delete(id)
      this.#reject(id, Frame.RejectReason.CANCELLED, '')
      this.#maybeCloseWrite()
    }
    // The job being served notices `cancelled` when its read fails or before its next piece.
  }

  /** Starts chunk reads for the first requests in the queue. */
  #readAhead (): void {
    const source = this.#source
    if (source === undefined) return
    const depth = Math.min(this.#queue.length, this.#options.readAhead)
    for (let i = 0; i < depth; i++) {
      const job = this.#queue[i]!
      if (job.kind !== 'chunk' || job.read !== undefined) continue
      job.read = source.readChunk(job.cid, job.index, { signal: AbortSignal.any([job.controller.signal, this.#controller.signal]) })
      // Awaited in #serve; this keeps an early failure from surfacing as an unhandled rejection.
      job.read.catch(() => {})
    }
  }

  async #pump (): Promise<void> {
    this.#pumping = true
    try {
      while (!this.#closed && this.#queue.length > 0) {
        const job = this.#queue.shift()!
        this.#current = job
        this.#readAhead()
        try {
          await this.#serve(job)
        } catch (err) {
          if (this.#closed) return
          if (err instanceof Refusal) {
            this.#reject(job.id, err.reason, err.message)
          } else {
            this.#log.error('serving %s request %d from %s failed - %e', job.kind, job.id, this.#peer, err)
            this.abort(err as Error)
            return
          }
        }
        this.#jobs.delete(job.id)
        this.#current = undefined
      }
    } finally {
      this.#pumping = false
      this.#current = undefined
    }
    this.#maybeCloseWrite()
  }

  async #serve (job: Job): Promise<void> {
    const source = this.#source!
    if (job.kind === 'bitfield') {
      const bitfield = source.bitfield(job.cid)
      if (bitfield === undefined) throw new Refusal(Frame.RejectReason.UNKNOWN_CONTENT, 'no bitfield for this content')
      if (bitfield.bytes.byteLength + 64 > this.#options.maxFrameSize) throw new Refusal(Frame.RejectReason.INTERNAL, 'bitfield too large for one frame')
      await this.#waitForCapacity(job)
      this.#sendControl(encodeDataFrame({ type: Frame.Type.BITFIELD, requestId: job.id, chunkCount: bitfield.chunkCount, origin: bitfield.origin === true }, bitfield.bytes))
      this.#traceAnswer(job)
      return
    }
    let body: Uint8Array
    if (job.kind === 'manifest') {
      const manifest = source.manifestBytes(job.cid)
      if (manifest === undefined) throw new Refusal(Frame.RejectReason.UNKNOWN_CONTENT, 'manifest no longer held')
      body = manifest
    } else {
      body = await this.#readChunk(job)
    }
    if (job.cancelled) throw new Refusal(Frame.RejectReason.CANCELLED, '')
    const header = job.kind === 'manifest'
      ? { type: Frame.Type.MANIFEST, requestId: job.id, length: body.byteLength }
      : { type: Frame.Type.CHUNK, requestId: job.id, index: job.index, length: body.byteLength }
    await this.#waitForCapacity(job)
    if (job.cancelled) throw new Refusal(Frame.RejectReason.CANCELLED, '')
    this.#sendControl(encodeFrame(header))
    await this.#sendBody(job, body)
    if (job.kind === 'manifest') this.#traceAnswer(job)
    if (job.kind === 'chunk' && source.onUploaded !== undefined) {
      this.#unflushed.push({ end: this.#written, cid: job.cid, index: job.index, bytes: body.byteLength })
      this.#reportFlushed()
    }
  }

  /**
   * Reports each body whose last byte has left the stream's write buffer (handed to the muxer, on its
   * way to the socket) as uploaded. Reported when handed to the stream instead, a body counted as sent
   * while up to DEFAULT_SEND_LOW_WATER of it and the bodies before it still waited: the node's
   * UploadBacklog then saw an idle uplink at nearly every admission and let requests past its rules
   * (swarm simulator, `--uplink-model conn`, 100 peers: origin egress 1.96 x F; docs/benchmarks.md,
   * session 27). Bodies an aborted stream drops are never reported, like a cancelled one.
   */
  #reportFlushed (): void {
    if (this.#unflushed.length === 0 || this.#stream.status !== 'open') return
    const flushed = this.#written - this.#stream.writeBufferLength
    while (this.#unflushed.length > 0 && this.#unflushed[0]!.end <= flushed) {
      const body = this.#unflushed.shift()!
      this.#source?.onUploaded?.(body.cid, this.#peer, body.index, body.bytes)
    }
  }

  async #readChunk (job: Job): Promise<Uint8Array> {
    try {
      return await (job.read ?? this.#source!.readChunk(job.cid, job.index, { signal: job.controller.signal }))
    } catch (err) {
      if (job.cancelled) throw new Refusal(Frame.RejectReason.CANCELLED, '')
      if (this.#closed) throw err
      if (isShoalError(err, 'ERR_NOT_HELD')) throw new Refusal(Frame.RejectReason.NOT_HELD, `chunk ${job.index} is not held`)
      if (isShoalError(err, 'ERR_BAD_INDEX')) throw new Refusal(Frame.RejectReason.BAD_INDEX, `chunk ${job.index} is out of range`)
      if (isShoalError(err, 'ERR_SOURCE_CHANGED')) throw new Refusal(Frame.RejectReason.SOURCE_CHANGED, 'the seeded files changed on disk')
      this.#log.error('reading chunk %d for %s failed - %e', job.index, this.#peer, err)
      throw new Refusal(Frame.RejectReason.INTERNAL, 'the chunk could not be read')
    }
  }

  async #sendBody (job: Job, body: Uint8Array): Promise<void> {
    const signal = AbortSignal.any([job.controller.signal, this.#controller.signal])
    const source = this.#source!
    for (let offset = 0; offset < body.byteLength; offset += this.#options.pieceSize) {
      if (job.cancelled) throw new Refusal(Frame.RejectReason.CANCELLED, '')
      const piece = body.subarray(offset, offset + this.#options.pieceSize)
      try {
        if (source.throttleUpload !== undefined) await source.throttleUpload(piece.byteLength, { signal })
        await waitForSendCapacity(this.#stream, this.#options.sendLowWater, signal)
      } catch (err) {
        if (job.cancelled) throw new Refusal(Frame.RejectReason.CANCELLED, '')
        throw err
      }
      if (this.#closed) throw new XferProtocolError('stream closed while sending')
      this.#send(encodeDataFrame({ type: Frame.Type.DATA, requestId: job.id, offset }, piece))
    }
  }

  /** Waits until the stream takes another frame; a cancel during the wait ends the job with CANCELLED. */
  async #waitForCapacity (job: Job): Promise<void> {
    try {
      await waitForSendCapacity(this.#stream, this.#options.sendLowWater, AbortSignal.any([job.controller.signal, this.#controller.signal]))
    } catch (err) {
      if (job.cancelled) throw new Refusal(Frame.RejectReason.CANCELLED, '')
      throw err
    }
  }

  #hasCapacity (): boolean {
    return !this.#stream.writableNeedsDrain && this.#stream.writeBufferLength <= this.#options.sendLowWater
  }

  /** Sends a refusal now if the stream has room, else queues it (it counts as unanswered until sent). */
  #reject (id: number, reason: Frame.RejectReason, message: string): void {
    if (this.#pendingRejects.length === 0 && this.#hasCapacity()) {
      this.#sendReject({ id, reason, message })
      return
    }
    this.#pendingRejects.push({ id, reason, message })
    if (!this.#flushing) void this.#flushRejects()
  }

  async #flushRejects (): Promise<void> {
    this.#flushing = true
    try {
      while (!this.#closed && this.#pendingRejects.length > 0) {
        await waitForSendCapacity(this.#stream, this.#options.sendLowWater, this.#controller.signal)
        while (!this.#closed && this.#pendingRejects.length > 0 && this.#hasCapacity()) this.#sendReject(this.#pendingRejects.shift()!)
      }
    } catch (err) {
      if (!this.#closed) this.abort(err as Error)
    } finally {
      this.#flushing = false
    }
    this.#maybeCloseWrite()
  }

  #sendReject (reject: PendingReject): void {
    this.#sendControl(encodeFrame({ type: Frame.Type.REJECT, requestId: reject.id, reason: reject.reason, message: reject.message.slice(0, MAX_REJECT_MESSAGE_LENGTH) }))
  }

  /** A manifest or bitfield answer's time on this node, from arrival to handed to the stream: the start path's share of the server. */
  #traceAnswer (job: Job): void {
    if (this.#log.enabled) this.#log('answered %s request %d from %s after %d ms', job.kind, job.id, this.#peer, Math.round(performance.now() - job.arrived))
  }

  #sendControl (frame: Parameters<Stream['send']>[0]): void {
    if (this.#closed || this.#stream.writeStatus !== 'writable') return
    try {
      // Callers waited for capacity first, so this adds at most one frame above the low water.
      this.#send(frame)
    } catch (err) {
      this.abort(err as Error)
    }
  }

  /** After the client closed its side, close ours once every queued answer went out. */
  #maybeCloseWrite (): void {
    if (!this.#remoteDone || this.#closed || this.#jobs.size > 0 || this.#pendingRejects.length > 0 || this.#stream.writeStatus !== 'writable') return
    this.#stream.close().catch(err => { this.abort(err as Error) })
  }

  #armIdle (): void {
    clearTimeout(this.#idleTimer)
    this.#idleTimer = setTimeout(() => {
      if (this.#pendingRejects.length > 0) {
        // refusals waited the whole idle time for the client to read: it is not reading
        this.abort(new XferTimeoutError(`${this.#peer} read no answer for ${this.#options.idleTimeout} ms`))
        return
      }
      if (this.#jobs.size > 0) {
        this.#armIdle()
        return
      }
      this.#log('closing idle stream from %s', this.#peer)
      this.#stream.close().catch(err => { this.abort(err as Error) })
    }, this.#options.idleTimeout)
    this.#idleTimer.unref?.()
  }

  /** Hands a frame to the stream, counted first: the stream may pass it on (and emit 'idle') inside send. */
  #send (frame: Parameters<Stream['send']>[0]): void {
    this.#written += frame.byteLength
    this.#stream.send(frame)
  }

  #finish (): void {
    if (this.#closed) return
    this.#unflushed.length = 0
    this.#closed = true
    this.#frameTimer.clear()
    clearTimeout(this.#idleTimer)
    this.#controller.abort()
    for (const job of this.#jobs.values()) job.controller.abort()
    this.#queue.length = 0
    this.#jobs.clear()
    this.#pendingRejects.length = 0
    this.#onClosed(this)
  }
}
