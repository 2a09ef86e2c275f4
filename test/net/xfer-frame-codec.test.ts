import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Uint8ArrayList } from 'uint8arraylist'
import { decodeFrame, encodeDataFrame, encodeFrame, encodeVarint, FrameDecoder } from '../../src/net/xfer/frame-codec.js'
import { Frame } from '../../src/net/xfer/pb/xfer.js'

describe('xfer frame codec', () => {
  it('round-trips control and data frames fed one byte at a time', () => {
    const data = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff)
    const wire = new Uint8ArrayList(
      encodeFrame({ type: Frame.Type.REQUEST, requestId: 9, cid: Uint8Array.of(1, 2, 3), index: 70000 }),
      encodeDataFrame({ type: Frame.Type.DATA, requestId: 9, offset: 4096 }, data),
      encodeFrame({ type: Frame.Type.REJECT, requestId: 10, reason: Frame.RejectReason.BUSY, message: 'later' })
    ).subarray()
    const decoder = new FrameDecoder(4096)
    const frames: Frame[] = []
    for (const byte of wire) frames.push(...decoder.push(Uint8Array.of(byte)))
    assert.equal(frames.length, 3)
    assert.equal(decoder.hasPartialFrame, false)
    assert.equal(frames[0]!.type, Frame.Type.REQUEST)
    assert.equal(frames[0]!.index, 70000)
    assert.equal(frames[1]!.type, Frame.Type.DATA)
    assert.equal(frames[1]!.offset, 4096)
    assert.deepEqual(new Uint8Array(frames[1]!.data), data)
    assert.equal(frames[2]!.reason, Frame.RejectReason.BUSY)
    assert.equal(frames[2]!.message, 'later')
  })

  it('hands a large DATA piece out as the buffers it arrived in, and decodes everything else whole', () => {
    const data = Uint8Array.from({ length: 20_000 }, (_, i) => (i * 7) & 0xff)
    const wire = new Uint8ArrayList(
      encodeDataFrame({ type: Frame.Type.DATA, requestId: 4, offset: 0 }, data),
      encodeDataFrame({ type: Frame.Type.DATA, requestId: 5, offset: 8 }, data.subarray(0, 100)),
      encodeFrame({ type: Frame.Type.BITFIELD, requestId: 6, chunkCount: 8 * 6000, data: data.subarray(0, 6000) })
    ).subarray()
    const decoder = new FrameDecoder(64 * 1024)
    const out: Array<{ frame: Frame, piece?: Uint8Array }> = []
    // 3000-byte reads, as a socket delivers them: every large frame spans several buffers
    for (let at = 0; at < wire.byteLength; at += 3000) {
      for (const { frame, piece } of decoder.pushDetached(wire.subarray(at, at + 3000))) out.push({ frame, piece: piece?.subarray() })
    }
    assert.equal(out.length, 3)
    assert.equal(out[0]!.frame.requestId, 4)
    assert.equal(out[0]!.frame.data.byteLength, 0, 'the piece is not in the frame')
    assert.deepEqual(out[0]!.piece, data)
    assert.equal(out[1]!.piece, undefined, 'a small piece is decoded with its frame')
    assert.deepEqual(new Uint8Array(out[1]!.frame.data), data.subarray(0, 100))
    assert.equal(out[2]!.piece, undefined, 'only DATA frames are split')
    assert.deepEqual(new Uint8Array(out[2]!.frame.data), data.subarray(0, 6000))
  })

  it('decodes a DATA frame with a repeated data field as protons does (last wins)', () => {
    const first = new Uint8Array(5000).fill(1)
    const last = new Uint8Array(6000).fill(2)
    const header = Frame.encode({ version: 1, type: Frame.Type.DATA, requestId: 1 })
    const field = (bytes: Uint8Array): Uint8Array[] => [Uint8Array.of((15 << 3) | 2), encodeVarint(bytes.byteLength), bytes]
    const body = new Uint8ArrayList(header, ...field(first), ...field(last)).subarray()
    const wire = new Uint8ArrayList(encodeVarint(body.byteLength), body).subarray()
    const decoder = new FrameDecoder(64 * 1024)
    const out = [...decoder.pushDetached(new Uint8ArrayList(wire.subarray(0, 7000), wire.subarray(7000)))]
    assert.equal(out.length, 1)
    assert.equal(out[0]!.piece, undefined)
    assert.deepEqual(new Uint8Array(out[0]!.frame.data), last)
  })

  it('reports a partial frame until it completes', () => {
    const decoder = new FrameDecoder(1024)
    const wire = encodeFrame({ type: Frame.Type.CANCEL, requestId: 3 }).subarray()
    assert.deepEqual([...decoder.push(wire.subarray(0, 2))], [])
    assert.equal(decoder.hasPartialFrame, true)
    assert.equal([...decoder.push(wire.subarray(2))].length, 1)
    assert.equal(decoder.hasPartialFrame, false)
  })

  it('refuses oversize frames before buffering them', () => {
    const decoder = new FrameDecoder(1024)
    assert.throws(() => [...decoder.push(encodeVarint(1025))], { code: 'ERR_XFER_PROTOCOL' })
  })

  it('refuses a length prefix that is not a uint32 varint', () => {
    const decoder = new FrameDecoder(Number.MAX_SAFE_INTEGER)
    assert.throws(() => [...decoder.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x01))], { code: 'ERR_XFER_PROTOCOL' })
  })

  it('refuses a wrong version, a missing type and undecodable bytes', () => {
    assert.throws(() => decodeFrame(Frame.encode({ version: 2, type: Frame.Type.CANCEL })), { code: 'ERR_XFER_PROTOCOL' })
    assert.throws(() => decodeFrame(Frame.encode({ version: 1 })), { code: 'ERR_XFER_PROTOCOL' })
    assert.throws(() => decodeFrame(Uint8Array.of(0x08, 0x01, 0x10, 0x63)), { code: 'ERR_XFER_PROTOCOL' })
    assert.throws(() => decodeFrame(Uint8Array.of(0x0a, 0xff, 0x01)), { code: 'ERR_XFER_PROTOCOL' })
  })
})
