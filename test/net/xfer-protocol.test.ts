import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, afterEach, before, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { ShoalError } from '../../src/util/shoal-error.js'
import { XFER_PROTOCOL, XferProtocol, XferRejectedError } from '../../src/net/xfer/index.js'
import { encodeVarint } from '../../src/net/xfer/frame-codec.js'
import { MAX_EXCLUDED_PEERS } from '../../src/net/xfer/constants.js'
import { Frame } from '../../src/net/xfer/pb/xfer.js'
import type { XferContentSource, XferInit } from '../../src/net/xfer/index.js'
import type { AbortOptions, Libp2p, Stream } from '@libp2p/interface'

const KiB = 1024
const MiB = 1024 * KiB
const DAG_CBOR = 0x71

/** Content held in memory: real random bytes cut into chunks, a manifest listing their digests. */
interface MemoryContent {
  cid: CID
  manifest: Uint8Array
  chunks: Uint8Array[]
  digests: string[]
}

async function makeContent (chunkCount: number, chunkSize: number): Promise<MemoryContent> {
  const chunks: Uint8Array[] = []
  const digests: string[] = []
  for (let i = 0; i < chunkCount; i++) {
    const chunk = randomBytes(chunkSize)
    chunks.push(chunk)
    digests.push(sha256hex(chunk))
  }
  const manifest = new TextEncoder().encode(JSON.stringify({ chunkSize, digests }))
  return { cid: CID.create(1, DAG_CBOR, await sha256.digest(manifest)), manifest, chunks, digests }
}

function sha256hex (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** A deferred the tests open and close to hold the server at a chosen point. */
function gate (): { promise: Promise<void>, open(): void } {
  let open!: () => void
  const promise = new Promise<void>(resolve => { open = resolve })
  return { promise, open }
}

async function waitFor (condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

class MemorySource implements XferContentSource {
  readonly contents = new Map<string, MemoryContent>()
  /** Chunk reads wait on this when set (keyed by index). */
  readonly holds = new Map<number, Promise<void>>()
  readonly readsStarted: number[] = []
  readonly readsAborted: number[] = []
  throttleGate?: Promise<void>
  throttledBytes = 0
  uploaded: number[] = []
  admitVerdict: 'ok' | 'busy' | 'not-held' = 'ok'
  /** The lastResort flag of every admitted request, in arrival order. */
  readonly admittedLastResort: boolean[] = []
  /** The excluded peers of every admitted request (undefined: none sent), in arrival order. */
  readonly admittedExcluded: Array<readonly string[] | undefined> = []

  add (content: MemoryContent): void {
    this.contents.set(content.cid.toString(), content)
  }

  manifestBytes (cid: CID): Uint8Array | undefined {
    return this.contents.get(cid.toString())?.manifest
  }

  bitfield (cid: CID): { chunkCount: number, bytes: Uint8Array } | undefined {
    const content = this.contents.get(cid.toString())
    if (content === undefined) return undefined
    const count = content.chunks.length
    const bytes = new Uint8Array(Math.ceil(count / 8))
    for (let i = 0; i < count; i++) bytes[i >> 3]! |= 0x80 >> (i & 7)
    return { chunkCount: count, bytes }
  }

  admit (_cid: CID, _peer: string, _index: number, lastResort?: boolean, excluded?: readonly string[]): 'ok' | 'busy' | 'not-held' {
    this.admittedLastResort.push(lastResort === true)
    this.admittedExcluded.push(excluded)
    return this.admitVerdict
  }

  async readChunk (cid: CID, index: number, options?: AbortOptions): Promise<Uint8Array> {
    const content = this.contents.get(cid.toString())
    if (content === undefined) throw new ShoalError('ERR_NOT_HELD', 'unknown content')
    const chunk = content.chunks[index]
    if (chunk === undefined) throw new ShoalError('ERR_BAD_INDEX', `no chunk ${index}`)
    this.readsStarted.push(index)
    const hold = this.holds.get(index)
    if (hold !== undefined) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          this.readsAborted.push(index)
          reject(options?.signal?.reason as Error)
        }
        if (options?.signal?.aborted === true) { onAbort(); return }
        options?.signal?.addEventListener('abort', onAbort, { once: true })
        hold.then(resolve, reject)
      })
    }
    return chunk
  }

  async throttleUpload (bytes: number): Promise<void> {
    if (this.throttleGate !== undefined) await this.throttleGate
    this.throttledBytes += bytes
  }

  onUploaded (_cid: CID, _peer: string, index: number): void {
    this.uploaded.push(index)
  }
}

async function makeNode (): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
}

describe('XferProtocol over real libp2p nodes', () => {
  let serverNode: Libp2p
  let clientNode: Libp2p
  let server: XferProtocol
  let client: XferProtocol
  let source: MemorySource
  let small: MemoryContent
  const extraNodes: Libp2p[] = []

  async function startPair (init: XferInit = {}): Promise<void> {
    serverNode = await makeNode()
    clientNode = await makeNode()
    source = new MemorySource()
    source.add(small)
    server = new XferProtocol({ registrar: serverNode, dialer: serverNode, source }, init)
    client = new XferProtocol({ registrar: clientNode, dialer: clientNode }, init)
    await server.start()
    await client.start()
    await clientNode.dial(serverNode.getMultiaddrs()[0]!)
  }

  before(async () => {
    small = await makeContent(100, 64 * KiB)
  })

  afterEach(async () => {
    await client?.stop()
    await server?.stop()
    await clientNode?.stop()
    await serverNode?.stop()
    for (const node of extraNodes.splice(0)) await node.stop()
  })

  after(() => {})

  it('round-trips manifest, bitfield and chunks', async () => {
    await startPair()
    const manifest = await client.getManifest(serverNode.peerId, small.cid)
    assert.deepEqual(manifest, small.manifest)
    const bitfield = await client.getBitfield(serverNode.peerId.toString(), small.cid)
    assert.equal(bitfield.chunkCount, 100)
    assert.equal(bitfield.bytes.length, 13)
    assert.equal(bitfield.bytes[0], 0xff)
    assert.equal(bitfield.bytes[12], 0xf0)
    for (const index of [0, 57, 99]) {
      const chunk = await client.requestChunk(serverNode.peerId, small.cid, index)
      assert.equal(sha256hex(chunk), small.digests[index])
    }
    await waitFor(() => source.uploaded.length === 3, 'upload accounting')
    assert.deepEqual(source.uploaded, [0, 57, 99])
  })

  it('resolves 64 pipelined requests on one peer with the right bytes', async () => {
    await startPair()
    const indexes = Array.from({ length: 64 }, (_, i) => (i * 37) % 100)
    const chunks = await Promise.all(indexes.map(async i => client.requestChunk(serverNode.peerId, small.cid, i)))
    chunks.forEach((chunk, n) => { assert.equal(sha256hex(chunk), small.digests[indexes[n]!], `chunk ${indexes[n]}`) })
  })

  it('reuses the buffer of a released chunk for the next one, with the right bytes in it', async () => {
    await startPair()
    const first = await client.requestChunk(serverNode.peerId, small.cid, 3)
    assert.equal(sha256hex(first), small.digests[3])
    const kept = await client.requestChunk(serverNode.peerId, small.cid, 4)
    client.releaseChunk(first)
    client.releaseChunk(first)
    const second = await client.requestChunk(serverNode.peerId, small.cid, 5)
    assert.equal(second.buffer, first.buffer, 'the released buffer came back')
    assert.equal(sha256hex(second), small.digests[5])
    const third = await client.requestChunk(serverNode.peerId, small.cid, 6)
    assert.notEqual(third.buffer, first.buffer, 'a double release does not hand one buffer out twice')
    assert.notEqual(third.buffer, kept.buffer, 'an unreleased chunk is never reused')
    assert.equal(sha256hex(third), small.digests[6])
    assert.equal(sha256hex(kept), small.digests[4])
  })

  it('moves a 16 MiB chunk and a manifest bigger than one piece', async () => {
    await startPair()
    const big = await makeContent(2, 16 * MiB)
    source.add(big)
    const chunk = await client.requestChunk(serverNode.peerId, big.cid, 1)
    assert.equal(chunk.byteLength, 16 * MiB)
    assert.equal(sha256hex(chunk), big.digests[1])

    const large: MemoryContent = { ...small, manifest: randomBytes(3 * MiB + 17) }
    large.cid = CID.create(1, DAG_CBOR, await sha256.digest(large.manifest))
    source.add(large)
    const fetched = await client.getManifest(serverNode.peerId, large.cid)
    assert.equal(Buffer.compare(fetched, large.manifest), 0)
  })

  it('rejects an out-of-range index and an unknown CID, then keeps serving', async () => {
    await startPair()
    await assert.rejects(client.requestChunk(serverNode.peerId, small.cid, 100), (err: unknown) => {
      assert.ok(err instanceof XferRejectedError)
      assert.equal(err.code, 'ERR_BAD_INDEX')
      assert.equal(err.reason, 'bad-index')
      return true
    })
    const unknown = CID.create(1, DAG_CBOR, await sha256.digest(randomBytes(16)))
    await assert.rejects(client.requestChunk(serverNode.peerId, unknown, 0), { code: 'ERR_XFER_REJECTED', reason: 'unknown-content' })
    await assert.rejects(client.getManifest(serverNode.peerId, unknown), { code: 'ERR_XFER_REJECTED', reason: 'unknown-content' })
    const chunk = await client.requestChunk(serverNode.peerId, small.cid, 5)
    assert.equal(sha256hex(chunk), small.digests[5])
  })

  it('passes the admit verdict on as busy / not-held', async () => {
    await startPair()
    source.admitVerdict = 'busy'
    await assert.rejects(client.requestChunk(serverNode.peerId, small.cid, 1), { code: 'ERR_PEER_BUSY', reason: 'busy' })
    source.admitVerdict = 'not-held'
    await assert.rejects(client.requestChunk(serverNode.peerId, small.cid, 1), { code: 'ERR_NOT_HELD', reason: 'not-held' })
    source.admitVerdict = 'ok'
    assert.equal(sha256hex(await client.requestChunk(serverNode.peerId, small.cid, 1)), small.digests[1])
    // the asker's "no other source" reaches the policy, and only when said
    assert.equal(sha256hex(await client.requestChunk(serverNode.peerId, small.cid, 2, { lastResort: true })), small.digests[2])
    assert.deepEqual(source.admittedLastResort.slice(-2), [false, true])
    // the banned peers a request names reach the policy, at most MAX_EXCLUDED_PEERS of them
    const many = Array.from({ length: MAX_EXCLUDED_PEERS + 4 }, (_, i) => `peer-${i}`)
    await client.requestChunk(serverNode.peerId, small.cid, 3, { lastResort: true, excluded: ['a', 'b'] })
    await client.requestChunk(serverNode.peerId, small.cid, 3, { excluded: many })
    await client.requestChunk(serverNode.peerId, small.cid, 3, {})
    assert.deepEqual(source.admittedExcluded.slice(-3), [['a', 'b'], many.slice(0, MAX_EXCLUDED_PEERS), undefined])
    assert.deepEqual(source.admittedLastResort.slice(-3), [true, false, false])
  })

  it('sends CANCEL when an in-flight request is aborted and keeps working', async () => {
    await startPair()
    const hold = gate()
    source.holds.set(7, hold.promise)
    const controller = new AbortController()
    const pending = client.requestChunk(serverNode.peerId, small.cid, 7, { signal: controller.signal })
    await waitFor(() => source.readsStarted.includes(7), 'the server to start reading chunk 7')
    controller.abort()
    await assert.rejects(pending, { code: 'ERR_ABORTED' })
    // The server only learns of the abort through the CANCEL frame.
    await waitFor(() => source.readsAborted.includes(7), 'the server to see the CANCEL')
    hold.open()
    const chunks = await Promise.all([8, 9, 7].map(async i => client.requestChunk(serverNode.peerId, small.cid, i)))
    assert.deepEqual(chunks.map(sha256hex), [small.digests[8], small.digests[9], small.digests[7]])
    assert.ok(!source.uploaded.includes(7) || source.uploaded.filter(i => i === 7).length === 1)
  })

  it('answers a bitfield request ahead of the chunks queued before it', async () => {
    await startPair()
    const first = gate()
    const second = gate()
    source.holds.set(10, first.promise)
    source.holds.set(11, second.promise)
    const chunks = [10, 11, 12].map(async i => client.requestChunk(serverNode.peerId, small.cid, i))
    const bitfield = client.getBitfield(serverNode.peerId, small.cid)
    // admitted on arrival, and frames of one stream arrive in order: once 13 is in, so is the bitfield request
    const last = client.requestChunk(serverNode.peerId, small.cid, 13)
    await waitFor(() => source.admittedLastResort.length === 4, 'all four chunk requests to arrive')
    let chunk11Done = false
    void chunks[1]!.then(() => { chunk11Done = true })
    first.open()
    // chunk 11's read is held: in arrival order the bitfield would wait behind it
    let answered = false
    void bitfield.then(() => { answered = true })
    await waitFor(() => answered, 'the bitfield answer while chunk 11 is still held')
    assert.equal(chunk11Done, false)
    assert.equal((await bitfield).chunkCount, 100)
    second.open()
    const bodies = await Promise.all([...chunks, last])
    assert.deepEqual(bodies.map(sha256hex), [10, 11, 12, 13].map(i => small.digests[i]))
  })

  it('stops a body between pieces on CANCEL and keeps the stream usable', async () => {
    await startPair({ pieceSize: 16 * KiB })
    const throttle = gate()
    let pieces = 0
    source.throttleUpload = async () => {
      // Let two pieces through, then hold the rest until the test has cancelled.
      if (++pieces > 2) await throttle.promise
    }
    const controller = new AbortController()
    const pending = client.requestChunk(serverNode.peerId, small.cid, 30, { signal: controller.signal })
    await waitFor(() => pieces > 2, 'the server to be mid-body')
    controller.abort()
    await assert.rejects(pending, { code: 'ERR_ABORTED' })
    await new Promise(resolve => setTimeout(resolve, 50))
    throttle.open()
    assert.equal(sha256hex(await client.requestChunk(serverNode.peerId, small.cid, 31)), small.digests[31])
    assert.ok(!source.uploaded.includes(30), 'a cancelled body is never counted as uploaded')
  })

  it('maps a timeout signal to ERR_PEER_TIMEOUT', async () => {
    await startPair()
    source.holds.set(3, new Promise(() => {}))
    await assert.rejects(client.requestChunk(serverNode.peerId, small.cid, 3, { signal: AbortSignal.timeout(200) }), { code: 'ERR_PEER_TIMEOUT' })
    assert.equal(sha256hex(await client.requestChunk(serverNode.peerId, small.cid, 4)), small.digests[4])
  })

  it('fails stalled streams with ERR_PEER_TIMEOUT after the progress timeout', async () => {
    await startPair({ progressTimeout: 300 })
    source.holds.set(3, new Promise(() => {}))
    const started = Date.now()
    await assert.rejects(client.requestChunk(serverNode.peerId, small.cid, 3), { code: 'ERR_PEER_TIMEOUT' })
    assert.ok(Date.now() - started < 5000)
    assert.equal(sha256hex(await client.requestChunk(serverNode.peerId, small.cid, 4)), small.digests[4])
  })

  it('counts a body as uploaded only once it left the stream\'s write buffer, not when it was queued there', async () => {
    await startPair()
    const raw: Stream = await clientNode.dialProtocol(serverNode.peerId, XFER_PROTOCOL)
    // a reader that stops reading: yamux sends no window updates, so only the first window
    // (256 KiB) passes the muxer and the server's next body waits in its stream's write buffer
    raw.pause()
    const wanted = [40, 41, 42, 43, 44, 45]
    for (const index of wanted) raw.send(framed(Frame.encode({ version: 1, type: Frame.Type.REQUEST, requestId: index, cid: small.cid.bytes, index })))
    // the server has handed a fourth body to the stream once it starts reading a sixth (read-ahead 2)
    await waitFor(() => source.readsStarted.includes(45), 'the server to read ahead')
    await new Promise(resolve => setTimeout(resolve, 300))
    // 4 x 64 KiB plus frame headers is more than the window: the fourth body has not left
    assert.deepEqual(source.uploaded.filter(i => wanted.includes(i)), [40, 41, 42], 'the body still in the write buffer is not counted')
    raw.resume()
    await waitFor(() => wanted.every(i => source.uploaded.includes(i)), 'every body to be counted once it left')
    assert.deepEqual(source.uploaded.filter(i => wanted.includes(i)), wanted, 'counted once each, in order')
    raw.abort(new Error('done'))
  })

  describe('malformed input on a raw stream', () => {
    const junk: Array<[string, () => Uint8Array]> = [
      ['random bytes', () => Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02])],
      ['an oversize length prefix', () => encodeVarint(100 * MiB)],
      ['an undecodable protobuf', () => Uint8Array.from([3, 0x0a, 0xff, 0x01])],
      ['a wrong wire version', () => framed(Frame.encode({ version: 7, type: Frame.Type.REQUEST, requestId: 1, cid: small.cid.bytes }))],
      ['an unknown message type', () => framed(Uint8Array.from([0x08, 0x01, 0x10, 0x63, 0x18, 0x01]))],
      ['a server-only message type', () => framed(Frame.encode({ version: 1, type: Frame.Type.DATA, requestId: 1, data: Uint8Array.of(1) }))]
    ]

    for (const [what, bytes] of junk) {
      it(`closes the stream on ${what} and keeps serving`, async () => {
        await startPair()
        const raw: Stream = await clientNode.dialProtocol(serverNode.peerId, XFER_PROTOCOL)
        const closed = new Promise<void>(resolve => { raw.addEventListener('close', () => { resolve() }, { once: true }) })
        raw.send(bytes())
        await withTimeout(closed, 5000, 'the server to close the junk stream')
        assert.notEqual(raw.status, 'open')
        assert.equal(sha256hex(await client.requestChunk(serverNode.peerId, small.cid, 2)), small.digests[2])
      })
    }
  })

  it('fails an in-flight request promptly with ERR_XFER_STREAM when the remote node stops', async () => {
    await startPair()
    source.holds.set(11, new Promise(() => {}))
    const pending = client.requestChunk(serverNode.peerId, small.cid, 11)
    await waitFor(() => source.readsStarted.includes(11), 'the server to start reading')
    const started = Date.now()
    const failed = assert.rejects(withTimeout(pending, 5000, 'the request to fail'), { code: 'ERR_XFER_STREAM' })
    await serverNode.stop()
    await failed
    assert.ok(Date.now() - started < 5000)
  })

  it('fails requests with ERR_XFER_STREAM on closePeer', async () => {
    await startPair()
    source.holds.set(12, new Promise(() => {}))
    const pending = client.requestChunk(serverNode.peerId, small.cid, 12)
    await waitFor(() => source.readsStarted.includes(12), 'the server to start reading')
    client.closePeer(serverNode.peerId)
    await assert.rejects(pending, { code: 'ERR_XFER_STREAM' })
    assert.equal(sha256hex(await client.requestChunk(serverNode.peerId, small.cid, 13)), small.digests[13])
  })

  it('awaits the upload throttle before sending data', async () => {
    await startPair({ pieceSize: 16 * KiB })
    const throttle = gate()
    source.throttleGate = throttle.promise
    let done = false
    const pending = client.requestChunk(serverNode.peerId, small.cid, 20).then(chunk => { done = true; return chunk })
    await waitFor(() => source.readsStarted.includes(20), 'the server to read the chunk')
    await new Promise(resolve => setTimeout(resolve, 200))
    assert.equal(done, false, 'no data may flow while the throttle holds')
    assert.equal(source.throttledBytes, 0)
    throttle.open()
    assert.equal(sha256hex(await pending), small.digests[20])
    // 64 KiB in 16 KiB pieces: every piece went through the bucket.
    assert.equal(source.throttledBytes, 64 * KiB)
  })
})

function framed (body: Uint8Array): Uint8Array {
  const prefix = encodeVarint(body.byteLength)
  const out = new Uint8Array(prefix.byteLength + body.byteLength)
  out.set(prefix)
  out.set(body, prefix.byteLength)
  return out
}

async function withTimeout<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`timed out waiting for ${what}`)) }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
