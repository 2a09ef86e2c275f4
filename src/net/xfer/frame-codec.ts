import { Uint8ArrayList } from 'uint8arraylist'
import { WIRE_VERSION } from './constants.js'
import { XferProtocolError } from './errors.js'
import { Frame } from './pb/xfer.js'

/** Protobuf key of Frame.data (field 15, length-delimited). */
const DATA_FIELD_KEY = (15 << 3) | 2
/** A uint32 varint never needs more than five bytes. */
const MAX_VARINT_BYTES = 5
/**
 * A DATA piece at least this long that arrived in several buffers is handed out as those buffers
 * instead of being joined: the receiver copies it once, into the chunk's own buffer.
 */
const DETACH_MIN_BYTES = 4 * 1024

/** Encodes a control frame (no body data) with its length prefix. */
export function encodeFrame (frame: Partial<Frame>): Uint8ArrayList {
  const body = Frame.encode({ ...frame, version: WIRE_VERSION })
  return new Uint8ArrayList(encodeVarint(body.byteLength), body)
}

/**
 * Encodes a frame whose last field is `data` without copying `data`: the header is encoded by
 * protons, the data field's key and length are appended by hand and the piece rides along as its
 * own buffer in the list handed to stream.send().
 */
export function encodeDataFrame (frame: Partial<Frame>, data: Uint8Array): Uint8ArrayList {
  const header = Frame.encode({ ...frame, data: undefined, version: WIRE_VERSION })
  if (data.byteLength === 0) return new Uint8ArrayList(encodeVarint(header.byteLength), header)
  const dataLength = encodeVarint(data.byteLength)
  const total = header.byteLength + 1 + dataLength.byteLength + data.byteLength
  return new Uint8ArrayList(encodeVarint(total), header, Uint8Array.of(DATA_FIELD_KEY), dataLength, data)
}

/** Unsigned LEB128 of a non-negative integer below 2^32. */
export function encodeVarint (value: number): Uint8Array {
  const out: number[] = []
  let v = value >>> 0
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80)
    v >>>= 7
  }
  out.push(v)
  return Uint8Array.from(out)
}

/**
 * Incremental reader of length-prefixed frames. It buffers at most one frame (plus what arrived
 * behind it), so the stream's own read buffer never fills: callers feed it from the 'message' event.
 * Anything malformed throws XferProtocolError and the caller aborts the stream.
 */
export class FrameDecoder {
  readonly #buffer = new Uint8ArrayList()
  readonly #maxFrameSize: number

  constructor (maxFrameSize: number) {
    this.#maxFrameSize = maxFrameSize
  }

  /** Bytes of an incomplete frame are waiting. */
  get hasPartialFrame (): boolean {
    return this.#buffer.byteLength > 0
  }

  /** Appends received bytes and yields every frame now complete. */
  * push (data: Uint8Array | Uint8ArrayList): Generator<Frame> {
    for (const { frame } of this.#frames(data, false)) yield frame
  }

  /**
   * As push(), but a large DATA frame's piece comes as `piece`, the received buffers it spans
   * (views, not copies; frame.data is then empty). Valid until the next call.
   */
  * pushDetached (data: Uint8Array | Uint8ArrayList): Generator<DecodedFrame> {
    yield * this.#frames(data, true)
  }

  * #frames (data: Uint8Array | Uint8ArrayList, detach: boolean): Generator<DecodedFrame> {
    this.#buffer.append(data)
    while (this.#buffer.byteLength > 0) {
      const prefix = this.#readLength()
      if (prefix === undefined) return
      const { length, bytes } = prefix
      if (this.#buffer.byteLength < bytes + length) return
      const body = this.#buffer.sublist(bytes, bytes + length)
      this.#buffer.consume(bytes + length)
      const detached = detach ? detachData(body) : undefined
      yield detached ?? { frame: decodeFrame(body.subarray()) }
    }
  }

  #readLength (): { length: number, bytes: number } | undefined {
    let value = 0
    const available = Math.min(this.#buffer.byteLength, MAX_VARINT_BYTES)
    for (let i = 0; i < available; i++) {
      const byte = this.#buffer.get(i)
      value += (byte & 0x7f) * 2 ** (7 * i)
      if ((byte & 0x80) === 0) {
        if (value > this.#maxFrameSize) {
          throw new XferProtocolError(`frame of ${value} bytes exceeds the limit of ${this.#maxFrameSize}`)
        }
        return { length: value, bytes: i + 1 }
      }
      if (value > this.#maxFrameSize) {
        throw new XferProtocolError(`frame length prefix exceeds the limit of ${this.#maxFrameSize}`)
      }
    }
    if (available === MAX_VARINT_BYTES) throw new XferProtocolError('frame length prefix is not a valid varint')
    return undefined
  }
}

/** A frame as the client reads it: a large DATA piece may stay in the buffers it arrived in. */
export interface DecodedFrame {
  frame: Frame
  piece?: Uint8ArrayList
}

/**
 * Splits a DATA frame whose data field is large and spans several buffers into its header (decoded
 * as usual) and the piece's buffers, by walking the top-level protobuf fields. Returns undefined for
 * everything else (the caller decodes the frame whole), including any field layout it does not
 * expect, such as a repeated data field: protons then decides, so the result never differs.
 */
function detachData (body: Uint8ArrayList): DecodedFrame | undefined {
  // in one buffer, subarray() is a view already: nothing to save
  if (body.byteLength < DETACH_MIN_BYTES || !spansBuffers(body)) return undefined
  let at = 0
  let field: { keyAt: number, start: number, end: number } | undefined
  while (at < body.byteLength) {
    const keyAt = at
    const key = readVarint(body, at)
    if (key === undefined) return undefined
    at = key.next
    switch (key.value & 7) {
      case 0: {
        const value = readVarint(body, at)
        if (value === undefined) return undefined
        at = value.next
        break
      }
      case 1: at += 8; break
      case 5: at += 4; break
      case 2: {
        const len = readVarint(body, at)
        if (len === undefined) return undefined
        const end = len.next + len.value
        if (end > body.byteLength) return undefined
        if (key.value === DATA_FIELD_KEY) {
          if (field !== undefined) return undefined
          field = { keyAt, start: len.next, end }
        }
        at = end
        break
      }
      default: return undefined
    }
  }
  if (at !== body.byteLength || field === undefined || field.end - field.start < DETACH_MIN_BYTES) return undefined
  const header = new Uint8ArrayList(body.sublist(0, field.keyAt), body.sublist(field.end)).subarray()
  const frame = decodeFrame(header)
  if (frame.type !== Frame.Type.DATA) return undefined
  return { frame, piece: body.sublist(field.start, field.end) }
}

function spansBuffers (list: Uint8ArrayList): boolean {
  let count = 0
  for (const _ of list) if (++count > 1) return true
  return false
}

/** An unsigned varint below 2^32 at `at`, or undefined when it is not one. */
function readVarint (list: Uint8ArrayList, at: number): { value: number, next: number } | undefined {
  let value = 0
  for (let i = 0; i < MAX_VARINT_BYTES && at + i < list.byteLength; i++) {
    const byte = list.get(at + i)
    value += (byte & 0x7f) * 2 ** (7 * i)
    if ((byte & 0x80) === 0) return value <= 0xffffffff ? { value, next: at + i + 1 } : undefined
  }
  return undefined
}

/** Decodes and validates one frame body. */
export function decodeFrame (body: Uint8Array): Frame {
  let frame: Frame
  try {
    frame = Frame.decode(body)
  } catch (err) {
    throw new XferProtocolError(`undecodable frame: ${(err as Error).message}`, { cause: err })
  }
  if (frame.version !== WIRE_VERSION) {
    throw new XferProtocolError(`unsupported wire version ${frame.version} (this node speaks ${WIRE_VERSION})`)
  }
  if (frame.type === Frame.Type.UNKNOWN) throw new XferProtocolError('frame without a type')
  return frame
}
