// In-memory swarm simulator: virtual peers holding real chunk bytes, answering requests after a
// per-peer delay (and a per-peer uplink rate), with optional failure modes. Not a mock: nothing
// in this process would otherwise answer chunk requests.
import { createHash, randomBytes } from 'node:crypto'
import { Bitfield } from '../../src/util/bitfield.js'
import { AbortedError, ChunkNotHeldError, PeerBusyError, PeerDisconnectedError } from '../../src/swarm/errors.js'
import { ErrorCode, ShoalError } from '../../src/errors.js'
import type { ChunkSink, SwarmTransport } from '../../src/swarm/swarm-session.js'

export function sha256 (data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** Random content split into chunks, with their digests. */
export class Content {
  readonly chunks: Uint8Array[]
  readonly digests: string[]
  constructor (readonly count: number, readonly chunkSize: number) {
    this.chunks = Array.from({ length: count }, () => new Uint8Array(randomBytes(chunkSize)))
    this.digests = this.chunks.map(sha256)
  }

  get bytes (): number { return this.count * this.chunkSize }

  full (): Bitfield {
    const b = new Bitfield(this.count)
    b.setAll()
    return b
  }

  fieldOf (indexes: Iterable<number>): Bitfield {
    const b = new Bitfield(this.count)
    for (const i of indexes) b.set(i)
    return b
  }
}

/** A store in memory that verifies against the digests and counts writes per chunk. */
export class MemorySink implements ChunkSink {
  readonly have: Bitfield
  readonly data: Array<Uint8Array | undefined>
  readonly writes: Uint32Array
  constructor (readonly content: Content, have?: Bitfield) {
    this.have = have?.clone() ?? new Bitfield(content.count)
    this.data = Array.from({ length: content.count }, (_, i) => this.have.has(i) ? content.chunks[i] : undefined)
    this.writes = new Uint32Array(content.count)
  }

  verify (index: number, data: Uint8Array): boolean {
    return sha256(data) === this.content.digests[index]
  }

  async write (index: number, data: Uint8Array): Promise<void> {
    this.writes[index]!++
    this.data[index] = data
    this.have.set(index)
  }
}

export interface VirtualPeerInit {
  /** What the peer can serve: a fixed bitfield or a live one (a session's sink). */
  has: Bitfield
  data: (index: number) => Uint8Array | undefined
  /** Latency added to every answer. */
  delayMs?: number
  /** Uplink: answers are serialised at this many bytes/s. */
  bytesPerSecond?: number
  /** Sends chunks with one byte flipped. */
  corrupt?: boolean
  /** After answering this many requests, the peer vanishes: everything pending fails with ERR_PEER_DISCONNECTED. */
  disconnectAfter?: number
  /** Never answers (only the caller's signal ends the request). */
  hang?: boolean
  /** Decides per request whether to serve ('ok'), refuse for lack of slots ('busy') or send the asker to other holders ('elsewhere'). */
  admit?: (from: string, index: number, lastResort: boolean, excluded: readonly string[] | undefined) => 'ok' | 'busy' | 'elsewhere'
}

interface Pending { timer: ReturnType<typeof setTimeout>, reject: (err: Error) => void }

export class VirtualPeer {
  served = 0
  uploadedBytes = 0
  gone = false
  /** When the peer's uplink is free again (ms, performance.now clock). */
  nextFreeAt = 0
  readonly pending = new Set<Pending>()
  constructor (readonly id: string, readonly init: VirtualPeerInit) {}

  disconnect (): void {
    this.gone = true
    for (const p of this.pending) {
      clearTimeout(p.timer)
      p.reject(new PeerDisconnectedError(this.id))
    }
    this.pending.clear()
  }
}

/** The network of virtual peers, seen from one downloader (`self`). */
export class SimNetwork {
  readonly peers = new Map<string, VirtualPeer>()
  calls = 0
  aborted = 0
  /** Requests per (peer, index) in arrival order, as `${peer}:${index}`. */
  readonly log: string[] = []
  readonly #concurrent = new Map<number, number>()
  /** Most requests ever outstanding at once for one chunk index. */
  maxConcurrentPerIndex = 0

  add (id: string, init: VirtualPeerInit): VirtualPeer {
    const peer = new VirtualPeer(id, init)
    this.peers.set(id, peer)
    return peer
  }

  /** A transport for the downloader called `self`. */
  transport (self = 'self'): SwarmTransport {
    return { requestChunk: async (peer, index, options) => this.request(self, peer, index, options.signal, options.lastResort === true, options.excluded) }
  }

  async request (from: string, id: string, index: number, signal: AbortSignal, lastResort = false, excluded?: readonly string[]): Promise<Uint8Array> {
    this.calls++
    this.log.push(`${id}:${index}`)
    const count = (this.#concurrent.get(index) ?? 0) + 1
    this.#concurrent.set(index, count)
    this.maxConcurrentPerIndex = Math.max(this.maxConcurrentPerIndex, count)
    try {
      return await this.#serve(from, id, index, signal, lastResort, excluded)
    } finally {
      this.#concurrent.set(index, this.#concurrent.get(index)! - 1)
    }
  }

  async #serve (from: string, id: string, index: number, signal: AbortSignal, lastResort: boolean, excluded: readonly string[] | undefined): Promise<Uint8Array> {
    const peer = this.peers.get(id)
    if (peer === undefined || peer.gone) throw new PeerDisconnectedError(id)
    if (signal.aborted) throw new AbortedError()
    const verdict = peer.init.admit?.(from, index, lastResort, excluded) ?? 'ok'
    if (verdict === 'busy') throw new PeerBusyError(id)
    if (verdict === 'elsewhere') throw new ShoalError(ErrorCode.ASK_ELSEWHERE, `peer ${id} asks to take chunk ${index} elsewhere first`)
    const chunk = peer.init.has.has(index) ? peer.init.data(index) : undefined
    if (chunk === undefined) throw new ChunkNotHeldError(id, index)
    const now = performance.now()
    let ready = now + (peer.init.delayMs ?? 0)
    if (peer.init.bytesPerSecond !== undefined) {
      const start = Math.max(now, peer.nextFreeAt)
      const end = start + chunk.length * 1000 / peer.init.bytesPerSecond
      peer.nextFreeAt = end
      ready = end + (peer.init.delayMs ?? 0)
    }
    return await new Promise<Uint8Array>((resolve, reject) => {
      const entry: Pending = {
        timer: setTimeout(() => {
          peer.pending.delete(entry)
          signal.removeEventListener('abort', onAbort)
          if (peer.init.hang === true) return
          peer.served++
          peer.uploadedBytes += chunk.length
          let out = chunk
          if (peer.init.corrupt === true) {
            out = Uint8Array.from(chunk)
            out[0] = out[0]! ^ 0xff
          }
          resolve(out)
          if (peer.init.disconnectAfter !== undefined && peer.served >= peer.init.disconnectAfter) peer.disconnect()
        }, peer.init.hang === true ? 2 ** 31 - 1 : Math.max(0, ready - now)),
        reject
      }
      const onAbort = (): void => {
        this.aborted++
        clearTimeout(entry.timer)
        peer.pending.delete(entry)
        reject(signal.reason instanceof Error ? signal.reason : new AbortedError())
      }
      signal.addEventListener('abort', onAbort, { once: true })
      peer.pending.add(entry)
    })
  }
}
