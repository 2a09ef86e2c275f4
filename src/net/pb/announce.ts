import { decodeMessage, encodeMessage, enumeration, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Announce {
  version: number
  type: Announce.Type
  cid: Uint8Array<ArrayBuffer>
  chunkCount: number
  indexes: Uint8Array<ArrayBuffer>
  bitfield: Uint8Array<ArrayBuffer>
}

export namespace Announce {
  export enum Type {
    UNKNOWN = 'UNKNOWN',
    HAVE = 'HAVE',
    BITFIELD = 'BITFIELD',
    LEAVE = 'LEAVE'
  }

  enum __TypeValues {
    UNKNOWN = 0,
    HAVE = 1,
    BITFIELD = 2,
    LEAVE = 3
  }

  export namespace Type {
    export const codec = (): Codec<Type> => {
      return enumeration<Type>(__TypeValues)
    }
  }

  let _codec: Codec<Announce>

  export const codec = (): Codec<Announce> => {
    if (_codec == null) {
      _codec = message<Announce>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if (obj.type != null && __TypeValues[obj.type] !== 0) {
          w.uint32(16)
          Announce.Type.codec().encode(obj.type, w)
        }

        if ((obj.cid != null && obj.cid.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.cid)
        }

        if ((obj.chunkCount != null && obj.chunkCount !== 0)) {
          w.uint32(32)
          w.uint32(obj.chunkCount)
        }

        if ((obj.indexes != null && obj.indexes.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.indexes)
        }

        if ((obj.bitfield != null && obj.bitfield.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.bitfield)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          type: Type.UNKNOWN,
          cid: uint8ArrayAlloc(0),
          chunkCount: 0,
          indexes: uint8ArrayAlloc(0),
          bitfield: uint8ArrayAlloc(0)
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
              obj.type = Announce.Type.codec().decode(reader)
              break
            }
            case 3: {
              obj.cid = reader.bytes()
              break
            }
            case 4: {
              obj.chunkCount = reader.uint32()
              break
            }
            case 5: {
              obj.indexes = reader.bytes()
              break
            }
            case 6: {
              obj.bitfield = reader.bytes()
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
                value: Announce.Type.codec().decode(reader)
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.cid`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.chunkCount`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.indexes`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.bitfield`,
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

  export interface AnnounceVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface AnnounceTypeFieldEvent {
    field: '$.type'
    value: Announce.Type
  }

  export interface AnnounceCidFieldEvent {
    field: '$.cid'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AnnounceChunkCountFieldEvent {
    field: '$.chunkCount'
    value: number
  }

  export interface AnnounceIndexesFieldEvent {
    field: '$.indexes'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AnnounceBitfieldFieldEvent {
    field: '$.bitfield'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Announce>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Announce.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Announce>): Announce {
    return decodeMessage(buf, Announce.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Announce>): Generator<AnnounceVersionFieldEvent | AnnounceTypeFieldEvent | AnnounceCidFieldEvent | AnnounceChunkCountFieldEvent | AnnounceIndexesFieldEvent | AnnounceBitfieldFieldEvent> {
    return streamMessage(buf, Announce.codec(), opts)
  }
}
