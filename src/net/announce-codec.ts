import { CID } from 'multiformats/cid'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { Bitfield } from '../util/bitfield.js'
import { ShoalError } from '../util/shoal-error.js'
import { ANNOUNCE_VERSION, HAVE_MAX_INDEXES, MAX_ANNOUNCE_BYTES, MAX_CHUNK_COUNT } from './constants.js'
import { Announce } from './pb/announce.js'

/** A decoded, validated announcement. */
export type DecodedAnnounce =
  | { type: 'have', indexes: number[] }
  | { type: 'bitfield', bitfield: Bitfield }
  | { type: 'leave' }

/** What the receiver knows about the content, against which announcements are checked. */
export interface AnnounceContext {
  cid: CID
  chunkCount: number
}

/** Encodes a HAVE of `indexes` (any order, duplicates allowed; at most HAVE_MAX_INDEXES distinct). */
export function encodeHave (ctx: AnnounceContext, indexes: Iterable<number>): Uint8Array {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b)
  if (sorted.length === 0 || sorted.length > HAVE_MAX_INDEXES) {
    throw new ShoalError('ERR_BAD_ANNOUNCE', `a HAVE carries 1..${HAVE_MAX_INDEXES} indexes, got ${sorted.length}`)
  }
  const bytes: number[] = []
  let prev = 0
  for (const index of sorted) {
    if (!Number.isInteger(index) || index < 0 || index >= ctx.chunkCount) {
      throw new ShoalError('ERR_BAD_ANNOUNCE', `chunk index ${index} is outside 0..${ctx.chunkCount - 1}`)
    }
    pushVarint(bytes, index - prev)
    prev = index
  }
  return Announce.encode({ ...header(ctx), type: Announce.Type.HAVE, indexes: Uint8Array.from(bytes) })
}

/** Encodes a BITFIELD of every held chunk. */
export function encodeBitfield (ctx: AnnounceContext, bitfield: Bitfield): Uint8Array {
  return Announce.encode({ ...header(ctx), type: Announce.Type.BITFIELD, bitfield: Uint8Array.from(bitfield.bytes) })
}

/** Encodes a LEAVE. */
export function encodeLeave (ctx: AnnounceContext): Uint8Array {
  return Announce.encode({ ...header(ctx), type: Announce.Type.LEAVE })
}

/** Decodes and validates an announcement; throws ERR_BAD_ANNOUNCE saying what is wrong. */
export function decodeAnnounce (data: Uint8Array, ctx: AnnounceContext): DecodedAnnounce {
  if (data.byteLength > MAX_ANNOUNCE_BYTES) bad(`${data.byteLength} bytes exceeds ${MAX_ANNOUNCE_BYTES}`)
  let msg: Announce
  try {
    msg = Announce.decode(data)
  } catch (err) {
    return bad(`not a valid Announce protobuf (${(err as Error).message})`)
  }
  if (msg.version !== ANNOUNCE_VERSION) bad(`version ${msg.version}, expected ${ANNOUNCE_VERSION}`)
  if (!uint8ArrayEquals(msg.cid, ctx.cid.bytes)) bad(`about content ${describeCid(msg.cid)}, not this topic's ${ctx.cid.toString()}`)
  if (msg.chunkCount !== ctx.chunkCount) bad(`chunk count ${msg.chunkCount}, manifest has ${ctx.chunkCount}`)
  switch (msg.type) {
    case Announce.Type.HAVE:
      if (msg.bitfield.byteLength !== 0) bad('HAVE carries a bitfield')
      return { type: 'have', indexes: decodeIndexes(msg.indexes, ctx.chunkCount) }
    case Announce.Type.BITFIELD: {
      if (msg.indexes.byteLength !== 0) bad('BITFIELD carries indexes')
      let bitfield: Bitfield
      try {
        bitfield = new Bitfield(ctx.chunkCount, msg.bitfield)
      } catch (err) {
        return bad(`bad bitfield (${(err as Error).message})`)
      }
      return { type: 'bitfield', bitfield }
    }
    case Announce.Type.LEAVE:
      if (msg.indexes.byteLength !== 0 || msg.bitfield.byteLength !== 0) bad('LEAVE carries a payload')
      return { type: 'leave' }
    default:
      return bad(`unknown message type ${String(msg.type)}`)
  }
}

function header (ctx: AnnounceContext): Pick<Announce, 'version' | 'cid' | 'chunkCount'> {
  if (!Number.isSafeInteger(ctx.chunkCount) || ctx.chunkCount <= 0 || ctx.chunkCount > MAX_CHUNK_COUNT) {
    throw new ShoalError('ERR_BAD_ANNOUNCE', `chunk count must be 1..${MAX_CHUNK_COUNT}, got ${ctx.chunkCount}`)
  }
  return { version: ANNOUNCE_VERSION, cid: ctx.cid.bytes, chunkCount: ctx.chunkCount }
}

/** The CID a peer sent, printable whether or not it decodes (it is untrusted). */
function describeCid (bytes: Uint8Array): string {
  try {
    return CID.decode(bytes).toString().slice(0, 100)
  } catch {
    return `<${bytes.byteLength} bytes that are no CID>`
  }
}

function decodeIndexes (bytes: Uint8Array, chunkCount: number): number[] {
  const indexes: number[] = []
  let pos = 0
  let prev = 0
  while (pos < bytes.length) {
    let value = 0
    let shift = 0
    for (;;) {
      if (pos >= bytes.length) bad('truncated index varint')
      if (shift > 28) bad('index varint longer than 32 bits')
      const b = bytes[pos++]!
      value += (b & 0x7f) * 2 ** shift
      shift += 7
      if ((b & 0x80) === 0) break
    }
    // Deltas after the first must be >= 1: indexes are strictly ascending.
    if (indexes.length > 0 && value === 0) bad('indexes not strictly ascending')
    const index = prev + value
    if (index >= chunkCount) bad(`chunk index ${index} is outside 0..${chunkCount - 1}`)
    if (indexes.length >= HAVE_MAX_INDEXES) bad(`more than ${HAVE_MAX_INDEXES} indexes`)
    indexes.push(index)
    prev = index
  }
  if (indexes.length === 0) bad('HAVE without indexes')
  return indexes
}

function pushVarint (out: number[], value: number): void {
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80)
    value = Math.floor(value / 0x80)
  }
  out.push(value)
}

function bad (why: string): never {
  throw new ShoalError('ERR_BAD_ANNOUNCE', `rejected announcement: ${why}`)
}
