/**
 * Fuzz run of every decoder that reads bytes a peer chose: the manifest decoder (bytes -> CID check ->
 * CBOR bounds -> dag-cbor -> validation), the GossipSub announcement decoder and the xfer frame
 * decoder. Inputs are the encoders' own output, mutated (bit flips, byte insert/delete/duplicate,
 * truncation, splicing, varint and length corruption, CBOR-aware nesting / huge lengths / floods of
 * tiny items), plus purely random bytes. Deterministic for a given --seed.
 *
 *   npm run fuzz                                         # 1,000,000 inputs over the three targets
 *   node dist/scripts/fuzz.js --seed 7 --iterations 30000 --out /tmp/fuzz-crashes
 *
 * A crash is a throw other than the decoder's typed error, a decoder that disagrees with itself
 * (frames fed whole vs in pieces; the CBOR pre-check refusing what dag-cbor and the validator accept),
 * or an input slower than 50 ms on each of three tries. Crashing inputs are written to --out and the
 * run exits 1.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import * as dagCbor from '@ipld/dag-cbor'
import {
  checkCborBounds, decodeManifest, encodeManifest, ManifestError, manifestCid, validateManifest
} from '../src/content/index.js'
import type { Manifest } from '../src/content/index.js'
import { decodeAnnounce, encodeBitfield, encodeHave, encodeLeave } from '../src/net/announce-codec.js'
import type { AnnounceContext } from '../src/net/announce-codec.js'
import { XferProtocolError } from '../src/net/xfer/errors.js'
import { encodeDataFrame, encodeFrame, FrameDecoder } from '../src/net/xfer/frame-codec.js'
import { Frame } from '../src/net/xfer/pb/xfer.js'
import { Bitfield } from '../src/util/bitfield.js'
import { isShoalError } from '../src/util/shoal-error.js'

/** An input slower than this (on each of SLOW_TRIES runs) counts as a crash. */
export const SLOW_INPUT_MS = 50
const SLOW_TRIES = 3
/** Generated inputs stay below this, so a legitimate decode of any of them is far under SLOW_INPUT_MS. */
const MAX_INPUT_BYTES = 256 * 1024
/** Accepted mutants kept per target as parents for further mutation. */
const CORPUS_CAP = 512
/** Crashing inputs written to disk at most (the count is still reported in full). */
const MAX_SAVED_CRASHES = 100
/** Pieces the frame decoder is fed in, cycled, to exercise frames split across messages. */
const FRAME_SPLITS = [1, 2, 5, 13, 64, 700]
const FRAME_LIMIT = 64 * 1024
const FRAME_TYPES = new Set<unknown>(Object.values(Frame.Type))

/** Small deterministic PRNG (mulberry32): the run depends on --seed only. */
export class Rng {
  #state: number

  constructor (seed: number) {
    this.#state = seed >>> 0
  }

  /** Uniform 32-bit unsigned integer. */
  next (): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }

  /** Uniform integer in [0, n). */
  int (n: number): number {
    return n <= 0 ? 0 : Math.floor((this.next() / 0x1_0000_0000) * n)
  }

  chance (p: number): boolean {
    return this.next() / 0x1_0000_0000 < p
  }

  bytes (n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff
    return out
  }

  pick<T> (items: readonly T[]): T {
    return items[this.int(items.length)]!
  }
}

/** What one decoder made of one input. */
type Outcome = 'accepted' | 'rejected'

/** One decoder under test. `run` must depend on the input bytes only, so a saved crash reproduces. */
interface FuzzTarget {
  name: string
  seeds: Uint8Array[]
  /** Mutations that understand this target's encoding, on top of the generic ones. */
  structured: Array<(input: Uint8Array, rng: Rng) => Uint8Array>
  run(input: Uint8Array): Outcome
}

/** Figures for one target. */
export interface TargetReport {
  target: string
  inputs: number
  rejected: number
  accepted: number
  crashes: number
  slowestMs: number
  /** The slowest input run again SLOW_TRIES times, fastest run: tells a GC pause from a slow decoder. */
  slowestRetimedMs: number
  slowestBytes: number
  p99Ms: number
}

/** A crash: which target, the input, and what went wrong. */
export interface FuzzCrash {
  target: string
  iteration: number
  input: Uint8Array
  why: string
}

export interface FuzzOptions {
  seed: number
  iterations: number
  /** Folder for crashing inputs; nothing is written without it. */
  outDir?: string
  /** Called every `progressEvery` inputs. */
  onProgress?: (done: number) => void
  progressEvery?: number
}

export interface FuzzReport {
  targets: TargetReport[]
  crashes: FuzzCrash[]
  elapsedMs: number
}

// ---- seeds ---------------------------------------------------------------------------------------

function digest (n: number): Uint8Array {
  const d = new Uint8Array(32)
  for (let i = 0; i < 32; i++) d[i] = (n * 31 + i * 7) & 0xff
  return d
}

function seedManifests (): Manifest[] {
  const C = 64 * 1024
  return [
    { version: 1, name: 'one.bin', size: 3 * C - 5, chunkSize: C, files: [{ path: 'one.bin', size: 3 * C - 5, chunks: [digest(1), digest(2), digest(3)] }], directories: [] },
    {
      version: 1,
      name: 'tree',
      size: 2 * C + 1,
      chunkSize: C,
      files: [
        { path: 'a/b/c.txt', size: C + 1, chunks: [digest(4), digest(5)] },
        { path: 'a/empty', size: 0, chunks: [] },
        { path: 'z', size: C, chunks: [digest(6)] }
      ],
      directories: ['a/b/d', 'e']
    },
    { version: 1, name: 'empty', size: 0, chunkSize: 1024 * 1024, files: [], directories: [] },
    {
      version: 1,
      name: 'wide',
      size: 40 * C,
      chunkSize: C,
      files: Array.from({ length: 40 }, (_, i) => ({ path: `d${i % 4}/s${i % 3}/f${i}`, size: C, chunks: [digest(i)] })),
      directories: []
    }
  ]
}

const ANNOUNCE_CONTEXTS: AnnounceContext[] = [
  { cid: manifestCid(Uint8Array.of(4, 5, 6)), chunkCount: 1000 },
  { cid: manifestCid(Uint8Array.of(4, 5, 6)), chunkCount: 17 }
]

function seedAnnouncements (): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const ctx of ANNOUNCE_CONTEXTS) {
    out.push(encodeHave(ctx, [0]), encodeHave(ctx, [1, 2, 3, ctx.chunkCount - 1]), encodeLeave(ctx))
    const bits = new Bitfield(ctx.chunkCount)
    for (let i = 0; i < ctx.chunkCount; i += 3) bits.set(i)
    out.push(encodeBitfield(ctx, bits))
  }
  const big = ANNOUNCE_CONTEXTS[0]!
  out.push(encodeHave(big, Array.from({ length: 500 }, (_, i) => i * 2)))
  return out
}

function seedFrames (): Uint8Array[] {
  const cid = manifestCid(Uint8Array.of(1, 2, 3)).bytes
  const frames = [
    encodeFrame({ type: Frame.Type.GET_MANIFEST, requestId: 1, cid }),
    encodeFrame({ type: Frame.Type.MANIFEST, requestId: 1, length: 300 }),
    encodeDataFrame({ type: Frame.Type.DATA, requestId: 1, offset: 0 }, new Uint8Array(300).fill(7)),
    encodeFrame({ type: Frame.Type.GET_BITFIELD, requestId: 2, cid }),
    encodeDataFrame({ type: Frame.Type.BITFIELD, requestId: 2, chunkCount: 20 }, Uint8Array.of(0xff, 0x0f, 0xf0)),
    encodeFrame({ type: Frame.Type.REQUEST, requestId: 3, cid, index: 5 }),
    encodeFrame({ type: Frame.Type.CHUNK, requestId: 3, index: 5, length: 64 }),
    encodeFrame({ type: Frame.Type.REJECT, requestId: 4, reason: Frame.RejectReason.BUSY, message: 'busy, ask later' }),
    encodeFrame({ type: Frame.Type.CANCEL, requestId: 3 })
  ].map(list => list.subarray())
  return [...frames, concat(frames), concat(frames.slice(0, 3))]
}

// ---- targets -------------------------------------------------------------------------------------

function manifestTarget (): FuzzTarget {
  const seeds = seedManifests().map(m => encodeManifest(m).bytes)
  const wrongCid = manifestCid(seeds[0]!)
  return {
    name: 'manifest',
    seeds,
    structured: [deepNesting, hugeCborLength, tinyItemFlood, cborHeaderCorrupt, cborTypeSwap, manifestPathSwap],
    run (input) {
      // one input in 16 goes with a foreign CID, to keep the mismatch path under test
      const cid = input.length > 0 && (input[0]! & 0x0f) === 0 ? wrongCid : manifestCid(input)
      try {
        decodeManifest(input, cid)
        return 'accepted'
      } catch (err) {
        if (!(err instanceof ManifestError)) throw err
      }
      if (cid === wrongCid || input.length > 64 * 1024) return 'rejected'
      // The pre-decode bounds check must never refuse a manifest the decoder and validator accept.
      try {
        checkCborBounds(input)
        return 'rejected'
      } catch (err) {
        if (!(err instanceof ManifestError) || err.code !== 'ERR_BAD_MANIFEST') return 'rejected'
        let accepted = false
        try {
          validateManifest(dagCbor.decode(input))
          accepted = true
        } catch {
          // refused by dag-cbor or the validator too: the pre-check agreed
        }
        if (accepted) throw new Error(`checkCborBounds refused a manifest that decodes and validates: ${err.message}`)
        return 'rejected'
      }
    }
  }
}

function announceTarget (): FuzzTarget {
  return {
    name: 'announce',
    seeds: seedAnnouncements(),
    structured: [varintCorrupt, protobufLengthCorrupt],
    run (input) {
      let accepted = false
      for (const ctx of ANNOUNCE_CONTEXTS) {
        try {
          decodeAnnounce(input, ctx)
          accepted = true
        } catch (err) {
          if (!isShoalError(err, 'ERR_BAD_ANNOUNCE')) throw err
        }
      }
      return accepted ? 'accepted' : 'rejected'
    }
  }
}

function frameTarget (): FuzzTarget {
  return {
    name: 'xfer-frame',
    seeds: seedFrames(),
    structured: [varintCorrupt, protobufLengthCorrupt, framePrefixCorrupt],
    run (input) {
      const whole = decodeFrames(input, [input.length])
      const pieces = decodeFrames(input, FRAME_SPLITS)
      if (whole.frames !== pieces.frames || whole.error !== pieces.error) {
        throw new Error(`fed whole: ${whole.frames} frames, ${whole.error ?? 'no error'}; in pieces: ${pieces.frames} frames, ${pieces.error ?? 'no error'}`)
      }
      return whole.error === undefined ? 'accepted' : 'rejected'
    }
  }
}

/** Frames decoded from `input` fed in pieces of the cycled `sizes`, and the first typed error. */
function decodeFrames (input: Uint8Array, sizes: number[]): { frames: number, error?: string } {
  const decoder = new FrameDecoder(FRAME_LIMIT)
  let frames = 0
  let pos = 0
  try {
    for (let i = 0; pos < input.length; i++) {
      const end = Math.min(input.length, pos + Math.max(1, sizes[i % sizes.length]!))
      for (const frame of decoder.push(input.subarray(pos, end))) {
        if (!FRAME_TYPES.has(frame.type) || frame.type === Frame.Type.UNKNOWN) throw new Error(`decoded a frame of type ${String(frame.type)}`)
        frames++
      }
      pos = end
    }
    return { frames }
  } catch (err) {
    if (err instanceof XferProtocolError) return { frames, error: err.message }
    throw err
  }
}

// ---- mutations -----------------------------------------------------------------------------------

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let off = 0
  for (const p of parts) {
    out.set(p, off)
    off += p.length
  }
  return out
}

function varint (value: number): Uint8Array {
  const out: number[] = []
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80)
    value = Math.floor(value / 0x80)
  }
  out.push(value)
  return Uint8Array.from(out)
}

function bigValue (rng: Rng): number {
  return rng.pick([0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x1_0000, 0x7fff_ffff, 0xffff_ffff, 2 ** 35, 2 ** 53 - 1, rng.next(), rng.int(4096)])
}

type Mutation = (input: Uint8Array, rng: Rng, corpus: Uint8Array[]) => Uint8Array

const bitFlip: Mutation = (input, rng) => {
  if (input.length === 0) return input
  const out = Uint8Array.from(input)
  for (let n = 1 + rng.int(4); n > 0; n--) out[rng.int(out.length)]! ^= 1 << rng.int(8)
  return out
}

const byteSet: Mutation = (input, rng) => {
  if (input.length === 0) return input
  const out = Uint8Array.from(input)
  out[rng.int(out.length)] = rng.pick([0x00, 0xff, 0x7f, 0x80, rng.int(256)])
  return out
}

const insertBytes: Mutation = (input, rng) => {
  const at = rng.int(input.length + 1)
  return concat([input.subarray(0, at), rng.bytes(1 + rng.int(16)), input.subarray(at)])
}

const deleteRange: Mutation = (input, rng) => {
  if (input.length === 0) return input
  const at = rng.int(input.length)
  const len = 1 + rng.int(Math.min(64, input.length - at))
  return concat([input.subarray(0, at), input.subarray(at + len)])
}

const duplicateRange: Mutation = (input, rng) => {
  if (input.length === 0) return input
  const at = rng.int(input.length)
  const len = 1 + rng.int(Math.min(256, input.length - at))
  const copies = rng.chance(0.1) ? 1 + rng.int(64) : 1
  const piece = input.subarray(at, at + len)
  return concat([input.subarray(0, at + len), ...Array.from({ length: copies }, () => piece), input.subarray(at + len)])
}

const truncate: Mutation = (input, rng) => input.subarray(0, rng.int(input.length + 1))

const splice: Mutation = (input, rng, corpus) => {
  const other = rng.pick(corpus)
  return concat([input.subarray(0, rng.int(input.length + 1)), other.subarray(rng.int(other.length + 1))])
}

/** Overwrites a position with a varint of an extreme value (protobuf tags, lengths, HAVE deltas). */
function varintCorrupt (input: Uint8Array, rng: Rng): Uint8Array {
  const at = rng.int(input.length + 1)
  const v = rng.chance(0.2) ? Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01) : varint(bigValue(rng))
  const out = Uint8Array.from(input)
  const head = out.subarray(0, at)
  return concat([head, v, input.subarray(Math.min(input.length, at + 1 + rng.int(3)))])
}

/** Finds a byte that could be a protobuf length-delimited key and corrupts the length after it. */
function protobufLengthCorrupt (input: Uint8Array, rng: Rng): Uint8Array {
  const keys: number[] = []
  for (let i = 0; i + 1 < input.length; i++) if ((input[i]! & 0x07) === 2) keys.push(i)
  if (keys.length === 0) return varintCorrupt(input, rng)
  const at = rng.pick(keys) + 1
  let end = at
  while (end < input.length && (input[end]! & 0x80) !== 0) end++
  return concat([input.subarray(0, at), varint(bigValue(rng)), input.subarray(Math.min(input.length, end + 1))])
}

/** Rewrites the length prefix of the first frame. */
function framePrefixCorrupt (input: Uint8Array, rng: Rng): Uint8Array {
  let end = 0
  while (end < input.length && (input[end]! & 0x80) !== 0) end++
  return concat([varint(bigValue(rng) % 0x1_0000_0000), input.subarray(Math.min(input.length, end + 1))])
}

/** Wraps the input in many one-element arrays or maps. */
function deepNesting (input: Uint8Array, rng: Rng): Uint8Array {
  const depth = rng.pick([2, 5, 10, 100, 1000, 10_000, 60_000])
  const wrapper = rng.chance(0.5) ? Uint8Array.of(0x81) : Uint8Array.of(0xa1, 0x61, 0x61)
  return concat([...Array.from({ length: depth }, () => wrapper), input])
}

/** Inserts a string, bytes, array or map header declaring an enormous length. */
function hugeCborLength (input: Uint8Array, rng: Rng): Uint8Array {
  const major = rng.pick([2, 3, 4, 5]) << 5
  const header = rng.chance(0.5)
    ? Uint8Array.of(major | 26, 0xff, 0xff, 0xff, rng.int(256))
    : Uint8Array.of(major | 27, rng.int(256), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
  const at = rng.int(input.length + 1)
  return concat([input.subarray(0, at), header, input.subarray(rng.chance(0.5) ? at : Math.min(input.length, at + 1))])
}

/** Replaces a piece of the input with a container holding many one-byte items. */
function tinyItemFlood (input: Uint8Array, rng: Rng): Uint8Array {
  const n = rng.pick([16, 1000, 20_000, 60_000])
  const item = rng.pick([0x80, 0xa0, 0x40, 0x60, 0x00, 0xf6])
  const flood = new Uint8Array(5 + n).fill(item)
  flood.set([0x9a, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff])
  const at = rng.int(input.length + 1)
  return concat([input.subarray(0, at), flood, input.subarray(Math.min(input.length, at + 1))])
}

/** Changes the additional-information bits of one byte (how long an argument or payload is). */
function cborHeaderCorrupt (input: Uint8Array, rng: Rng): Uint8Array {
  if (input.length === 0) return input
  const out = Uint8Array.from(input)
  const at = rng.int(out.length)
  out[at] = (out[at]! & 0xe0) | rng.pick([23, 24, 25, 26, 27, 28, 31, rng.int(32)])
  return out
}

/** Changes the major type of one byte. */
function cborTypeSwap (input: Uint8Array, rng: Rng): Uint8Array {
  if (input.length === 0) return input
  const out = Uint8Array.from(input)
  const at = rng.int(out.length)
  out[at] = (out[at]! & 0x1f) | (rng.int(8) << 5)
  return out
}

const PATH_SEGMENTS = ['a', 'b', 'a.b', '..', '.', '', 'CON', 'nul.txt', 'com1', 'C:x', 'a\\b', 'tr.', 'sp ', '\u0000', '\u001b',
  'é', '文件', '\ud800', 'x'.repeat(255), 'y'.repeat(256), '__proto__', 'constructor']

/**
 * Decodes a manifest-shaped input and rewrites one path (file or directory) with a generated one:
 * unsafe segments, deep or long paths, or another entry's path or ancestor (duplicates, file under
 * file, folder versus file) so the validator's clash checks are exercised, then re-encodes it.
 */
function manifestPathSwap (input: Uint8Array, rng: Rng): Uint8Array {
  let value: { files?: Array<{ path?: unknown }>, directories?: unknown[] }
  try {
    value = dagCbor.decode(input)
  } catch {
    return input
  }
  if (typeof value !== 'object' || value === null || !Array.isArray(value.files) || !Array.isArray(value.directories)) return input
  const paths = [...value.files.map(f => f?.path), ...value.directories].filter((p): p is string => typeof p === 'string')
  let path: string
  const other = paths.length > 0 ? rng.pick(paths) : 'a'
  switch (rng.int(4)) {
    case 0: path = other; break
    case 1: path = other.split('/').slice(0, 1 + rng.int(4)).join('/'); break
    case 2: path = `${other}/${rng.pick(PATH_SEGMENTS)}`; break
    default: {
      const depth = rng.pick([1, 2, 3, 255, 256, 257, 2_000])
      const parts = Array.from({ length: depth }, () => rng.chance(0.9) ? 'd' : rng.pick(PATH_SEGMENTS))
      path = parts.join('/')
    }
  }
  if (rng.chance(0.5) && value.files.length > 0) {
    const file = rng.pick(value.files)
    if (typeof file === 'object' && file !== null) file.path = path
  } else {
    value.directories.push(path)
  }
  try {
    return dagCbor.encode(value)
  } catch {
    return input
  }
}

const GENERIC: Mutation[] = [bitFlip, byteSet, insertBytes, deleteRange, duplicateRange, truncate, splice]

function generate (target: FuzzTarget, corpus: Uint8Array[], rng: Rng): Uint8Array {
  if (rng.chance(0.08)) return rng.bytes(rng.int(rng.chance(0.9) ? 64 : 4096))
  let input = rng.pick(corpus)
  for (let n = 1 + rng.int(4); n > 0; n--) {
    input = target.structured.length > 0 && rng.chance(0.35)
      ? rng.pick(target.structured)(input, rng)
      : rng.pick(GENERIC)(input, rng, corpus)
    if (input.length > MAX_INPUT_BYTES) input = input.subarray(0, MAX_INPUT_BYTES)
  }
  return input
}

// ---- the run -------------------------------------------------------------------------------------

interface Tally {
  target: FuzzTarget
  corpus: Uint8Array[]
  times: number[]
  slowest: { ms: number, input: Uint8Array }
  rejected: number
  accepted: number
  crashes: number
}

/** Runs one input; undefined means fine, otherwise why it is a crash. */
function attempt (tally: Tally, input: Uint8Array): { ms: number, crash?: string } {
  let best = Infinity
  for (let tries = 0; tries < SLOW_TRIES; tries++) {
    const started = performance.now()
    let outcome: Outcome
    try {
      outcome = tally.target.run(input)
    } catch (err) {
      return { ms: performance.now() - started, crash: `untyped throw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}` }
    }
    const ms = performance.now() - started
    if (tries === 0) {
      if (outcome === 'accepted') tally.accepted++
      else tally.rejected++
      if (outcome === 'accepted' && tally.corpus.length < CORPUS_CAP) tally.corpus.push(input)
    }
    best = Math.min(best, ms)
    if (best <= SLOW_INPUT_MS) return { ms }
  }
  return { ms: best, crash: `slow: ${best.toFixed(1)} ms on the fastest of ${SLOW_TRIES} tries (limit ${SLOW_INPUT_MS} ms)` }
}

function percentile (sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!
}

/** Feeds `iterations` inputs round-robin to the three decoders; the seeds go first, unmutated. */
export function runFuzz (options: FuzzOptions): FuzzReport {
  const started = performance.now()
  const rng = new Rng(options.seed)
  const tallies: Tally[] = [manifestTarget(), announceTarget(), frameTarget()].map(target => ({
    target, corpus: [...target.seeds], times: [], slowest: { ms: -1, input: new Uint8Array(0) }, rejected: 0, accepted: 0, crashes: 0
  }))
  const crashes: FuzzCrash[] = []
  const pending = tallies.map(t => [...t.target.seeds])
  const every = options.progressEvery ?? 100_000
  for (let i = 0; i < options.iterations; i++) {
    const which = i % tallies.length
    const tally = tallies[which]!
    const input = pending[which]!.shift() ?? generate(tally.target, tally.corpus, rng)
    const { ms, crash } = attempt(tally, input)
    tally.times.push(ms)
    if (ms > tally.slowest.ms) tally.slowest = { ms, input }
    if (crash !== undefined) {
      tally.crashes++
      const record = { target: tally.target.name, iteration: i, input: Uint8Array.from(input), why: crash }
      crashes.push(record)
      if (options.outDir !== undefined && crashes.length <= MAX_SAVED_CRASHES) saveCrash(options.outDir, record)
    }
    if (options.onProgress !== undefined && (i + 1) % every === 0) options.onProgress(i + 1)
  }
  const targets = tallies.map(t => {
    const sorted = Float64Array.from(t.times).sort()
    return {
      target: t.target.name,
      inputs: t.times.length,
      rejected: t.rejected,
      accepted: t.accepted,
      crashes: t.crashes,
      slowestMs: sorted.length === 0 ? 0 : sorted[sorted.length - 1]!,
      slowestRetimedMs: retime(t.target, t.slowest.input),
      slowestBytes: t.slowest.input.length,
      p99Ms: percentile(sorted, 0.99)
    }
  })
  return { targets, crashes, elapsedMs: performance.now() - started }
}

function retime (target: FuzzTarget, input: Uint8Array): number {
  let best = Infinity
  for (let i = 0; i < SLOW_TRIES; i++) {
    const started = performance.now()
    try {
      target.run(input)
    } catch {
      // only the time matters here; the first run already classified this input
    }
    best = Math.min(best, performance.now() - started)
  }
  return best
}

function saveCrash (dir: string, crash: FuzzCrash): void {
  mkdirSync(dir, { recursive: true })
  const base = join(dir, `${crash.target}-${crash.iteration}`)
  writeFileSync(`${base}.bin`, crash.input)
  writeFileSync(`${base}.txt`, `${crash.why}\n`)
}

/** The report as printed: one line per target, then the crashes. */
export function formatReport (report: FuzzReport, seed: number): string {
  const lines = [`fuzz seed ${seed}: ${report.targets.reduce((n, t) => n + t.inputs, 0)} inputs in ${(report.elapsedMs / 1000).toFixed(1)} s`]
  lines.push('target        inputs   rejected   accepted  crashes  slowest ms (re-timed, bytes)  p99 ms')
  for (const t of report.targets) {
    lines.push(`${t.target.padEnd(12)} ${String(t.inputs).padStart(7)} ${String(t.rejected).padStart(10)} ${String(t.accepted).padStart(10)} ${String(t.crashes).padStart(8)} ${t.slowestMs.toFixed(2).padStart(11)} (${t.slowestRetimedMs.toFixed(2)}, ${t.slowestBytes})`.padEnd(81) + t.p99Ms.toFixed(3).padStart(7))
  }
  for (const c of report.crashes.slice(0, 20)) lines.push(`CRASH ${c.target} #${c.iteration} (${c.input.length} bytes): ${c.why.split('\n')[0]}`)
  return lines.join('\n')
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      iterations: { type: 'string', default: '1000000' },
      out: { type: 'string', default: 'fuzz-crashes' }
    }
  })
  const seed = Number(values.seed)
  const iterations = Number(values.iterations)
  if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(iterations) || iterations < 0) {
    throw new Error('--seed and --iterations take non-negative integers')
  }
  const report = runFuzz({
    seed,
    iterations,
    outDir: values.out,
    onProgress: done => { process.stderr.write(`... ${done} inputs\n`) }
  })
  console.log(formatReport(report, seed))
  if (report.crashes.length > 0) {
    console.log(`${report.crashes.length} crash(es); inputs saved under ${values.out}/`)
    process.exitCode = 1
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main()
}
