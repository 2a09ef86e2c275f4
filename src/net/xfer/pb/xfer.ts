import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Frame {
  version: number
  type: Frame.Type
  requestId: number
  cid: Uint8Array<ArrayBuffer>
  index: number
  length: number
  offset: number
  chunkCount: number
  reason: Frame.RejectReason
  message: string
  origin: boolean
  lastResort: boolean
  excluded: string[]
  data: Uint8Array<ArrayBuffer>
}

export namespace Frame {
  export enum Type {
    UNKNOWN = 'UNKNOWN',
    GET_MANIFEST = 'GET_MANIFEST',
    MANIFEST = 'MANIFEST',
    GET_BITFIELD = 'GET_BITFIELD',
    BITFIELD = 'BITFIELD',
    REQUEST = 'REQUEST',
    CHUNK = 'CHUNK',
    DATA = 'DATA',
    REJECT = 'REJECT',
    CANCEL = 'CANCEL'
  }

  enum __TypeValues {
    UNKNOWN = 0,
    GET_MANIFEST = 1,
    MANIFEST = 2,
    GET_BITFIELD = 3,
    BITFIELD = 4,
    REQUEST = 5,
    CHUNK = 6,
    DATA = 7,
    REJECT = 8,
    CANCEL = 9
  }

  export namespace Type {
    export const codec = (): Codec<Type> => {
      return enumeration<Type>(__TypeValues)
    }
  }

  export enum RejectReason {
    UNSPECIFIED = 'UNSPECIFIED',
    NOT_HELD = 'NOT_HELD',
    BUSY = 'BUSY',
    BAD_REQUEST = 'BAD_REQUEST',
    UNKNOWN_CONTENT = 'UNKNOWN_CONTENT',
    BAD_INDEX = 'BAD_INDEX',
    SOURCE_CHANGED = 'SOURCE_CHANGED',
    CANCELLED = 'CANCELLED',
    INTERNAL = 'INTERNAL',
    SHUTTING_DOWN = 'SHUTTING_DOWN',
    ELSEWHERE = 'ELSEWHERE'
  }

  enum __RejectReasonValues {
    UNSPECIFIED = 0,
    NOT_HELD = 1,
    BUSY = 2,
    BAD_REQUEST = 3,
    UNKNOWN_CONTENT = 4,
    BAD_INDEX = 5,
    SOURCE_CHANGED = 6,
    CANCELLED = 7,
    INTERNAL = 8,
    SHUTTING_DOWN = 9,
    ELSEWHERE = 10
  }

  export namespace RejectReason {
    export const codec = (): Codec<RejectReason> => {
      return enumeration<RejectReason>(__RejectReasonValues)
    }
  }

  let _codec: Codec<Frame>

  export const codec = (): Codec<Frame> => {
    if (_codec == null) {
      _codec = message<Frame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if (obj.type != null && __TypeValues[obj.type] !== 0) {
          w.uint32(16)
          Frame.Type.codec().encode(obj.type, w)
        }

        if ((obj.requestId != null && obj.requestId !== 0)) {
          w.uint32(24)
          w.uint32(obj.requestId)
        }

        if ((obj.cid != null && obj.cid.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.cid)
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(40)
          w.uint32(obj.index)
        }

        if ((obj.length != null && obj.length !== 0)) {
          w.uint32(48)
          w.uint32(obj.length)
        }

        if ((obj.offset != null && obj.offset !== 0)) {
          w.uint32(56)
          w.uint32(obj.offset)
        }

        if ((obj.chunkCount != null && obj.chunkCount !== 0)) {
          w.uint32(64)
          w.uint32(obj.chunkCount)
        }

        if (obj.reason != null && __RejectReasonValues[obj.reason] !== 0) {
          w.uint32(72)
          Frame.RejectReason.codec().encode(obj.reason, w)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(82)
          w.string(obj.message)
        }

        if ((obj.origin != null && obj.origin !== false)) {
          w.uint32(88)
          w.bool(obj.origin)
        }

        if ((obj.lastResort != null && obj.lastResort !== false)) {
          w.uint32(96)
          w.bool(obj.lastResort)
        }

        if (obj.excluded != null && obj.excluded.length > 0) {
          for (const value of obj.excluded) {
            w.uint32(106)
            w.string(value)
          }
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(122)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          type: Type.UNKNOWN,
          requestId: 0,
          cid: uint8ArrayAlloc(0),
          index: 0,
          length: 0,
          offset: 0,
          chunkCount: 0,
          reason: RejectReason.UNSPECIFIED,
          message: '',
          origin: false,
          lastResort: false,
          excluded: [],
          data: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.type = Frame.Type.codec().decode(reader)
              break
            }
            case 3: {
              obj.requestId = reader.uint32()
              break
            }
            case 4: {
              obj.cid = reader.bytes()
              break
            }
            case 5: {
              obj.index = reader.uint32()
              break
            }
            case 6: {
              obj.length = reader.uint32()
              break
            }
            case 7: {
              obj.offset = reader.uint32()
              break
            }
            case 8: {
              obj.chunkCount = reader.uint32()
              break
            }
            case 9: {
              obj.reason = Frame.RejectReason.codec().decode(reader)
              break
            }
            case 10: {
              obj.message = reader.string()
              break
            }
            case 11: {
              obj.origin = reader.bool()
              break
            }
            case 12: {
              obj.lastResort = reader.bool()
              break
            }
            case 13: {
              if (opts.limits?.excluded != null && obj.excluded.length === opts.limits.excluded) {
                throw new MaxLengthError('Decode error - repeated field "excluded" had too many elements')
              }

              obj.excluded.push(reader.string())
              break
            }
            case 15: {
              obj.data = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          excluded: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.type`,
                value: Frame.Type.codec().decode(reader)
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.requestId`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.cid`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.length`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.offset`,
                value: reader.uint32()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.chunkCount`,
                value: reader.uint32()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.reason`,
                value: Frame.RejectReason.codec().decode(reader)
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.origin`,
                value: reader.bool()
              }
              break
            }
            case 12: {
              yield {
                field: `${prefix}.lastResort`,
                value: reader.bool()
              }
              break
            }
            case 13: {
              if (opts.limits?.excluded != null && obj.excluded === opts.limits.excluded) {
                throw new MaxLengthError('Streaming decode error - repeated field "excluded" had too many elements')
              }

              yield {
                field: `${prefix}.excluded[]`,
                index: obj.excluded,
                value: reader.string()
              }

              obj.excluded++

              break
            }
            case 15: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface FrameVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface FrameTypeFieldEvent {
    field: '$.type'
    value: Frame.Type
  }

  export interface FrameRequestIdFieldEvent {
    field: '$.requestId'
    value: number
  }

  export interface FrameCidFieldEvent {
    field: '$.cid'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FrameIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface FrameLengthFieldEvent {
    field: '$.length'
    value: number
  }

  export interface FrameOffsetFieldEvent {
    field: '$.offset'
    value: number
  }

  export interface FrameChunkCountFieldEvent {
    field: '$.chunkCount'
    value: number
  }

  export interface FrameReasonFieldEvent {
    field: '$.reason'
    value: Frame.RejectReason
  }

  export interface FrameMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export interface FrameOriginFieldEvent {
    field: '$.origin'
    value: boolean
  }

  export interface FrameLastResortFieldEvent {
    field: '$.lastResort'
    value: boolean
  }

  export interface FrameExcludedFieldEvent {
    field: '$.excluded[]'
    index: number
    value: string
  }

  export interface FrameDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Frame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Frame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Frame>): Frame {
    return decodeMessage(buf, Frame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Frame>): Generator<FrameVersionFieldEvent | FrameTypeFieldEvent | FrameRequestIdFieldEvent | FrameCidFieldEvent | FrameIndexFieldEvent | FrameLengthFieldEvent | FrameOffsetFieldEvent | FrameChunkCountFieldEvent | FrameReasonFieldEvent | FrameMessageFieldEvent | FrameOriginFieldEvent | FrameLastResortFieldEvent | FrameExcludedFieldEvent | FrameDataFieldEvent> {
    return streamMessage(buf, Frame.codec(), opts)
  }
}
