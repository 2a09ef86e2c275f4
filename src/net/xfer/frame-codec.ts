import { Uint8ArrayList } from 'uint8arraylist'
import { WIRE_VERSION } from './constants.js'
import { XferProtocolError } from './errors.js'
import { Frame } from './pb/xfer.js'

/** Protobuf key of Frame.data (field 15, length-delimited). */
const DATA_FIELD_KEY = (15 << 3) | 2
/** A uint32 varint never needs more than five bytes. */
const MAX_VARINT_BYTES = 5

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
    this.#buffer.append(data)
    while (this.#buffer.byteLength > 0) {
      const prefix = this.#readLength()
      if (prefix === undefined) return
      const { length, bytes } = prefix
      if (this.#buffer.byteLength < bytes + length) return
      const body = this.#buffer.subarray(bytes, bytes + length)
      this.#buffer.consume(bytes + length)
      yield decodeFrame(body)
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
