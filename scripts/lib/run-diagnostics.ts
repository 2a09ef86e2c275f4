import type { ShoalProcess } from './shoal-process.js'

const GiB = 1024 * 1024 * 1024

/**
 * The DEBUG namespaces a bench node runs with: `shoal:node:upload` writes a line per chunk sent
 * (mode, peer, index), `shoal:node:download` the moment the manifest arrived. Both cost one
 * `log.enabled` check per chunk when off, and a short stderr line when on.
 */
export const TRACE_ENV: NodeJS.ProcessEnv = { DEBUG: 'shoal:node:upload,shoal:node:download', DEBUG_COLORS: '0' }

/** One chunk upload a node traced. */
export interface TracedUpload {
  /** wall clock, ms since the epoch (the trace's own ISO timestamp: the time it was sent, not read) */
  atEpochMs: number
  peer: string
  index: number
}

// weald (libp2p's debug) without colours: "<ISO time> <namespace> <message>"
const DEBUG_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z) (\S+) (.*)$/
const NODE_TAG = /^\[[^\]\s]*\] /

/** What one node's DEBUG trace told: its chunk uploads and when the manifest arrived. */
export class NodeTrace {
  readonly uploads: TracedUpload[] = []
  manifestAtEpochMs: number | undefined

  /** Listens to p's stderr; call right after spawning, with TRACE_ENV in its environment. */
  static of (p: ShoalProcess): NodeTrace {
    const trace = new NodeTrace()
    p.onStderrLine(line => { trace.#line(line) })
    return trace
  }

  #line (line: string): void {
    const m = DEBUG_LINE.exec(line)
    if (m === null) return
    const at = Date.parse(m[1]!)
    // a node's logger starts every message with its tag, "[<name or peer id tail>] "
    const message = m[3]!.replace(NODE_TAG, '')
    if (m[2] === 'shoal:node:upload') {
      const [, peer, index] = message.split(' ')
      if (peer !== undefined && index !== undefined) this.uploads.push({ atEpochMs: at, peer, index: Number(index) })
    } else if (m[2] === 'shoal:node:download' && this.manifestAtEpochMs === undefined && /^manifest of \S+ from \S+: \d+ (?:chunks|bytes)(?: \(.*\))?$/.test(message)) {
      this.manifestAtEpochMs = at
    }
  }
}

/** Byte length of chunk i of a one-file content. */
export function chunkBytesOf (size: number, chunks: number): (index: number) => number {
  // the chunk size is the power of two that splits size into `chunks` pieces
  const chunkSize = chunks <= 1 ? size : 2 ** Math.ceil(Math.log2(size / chunks))
  return index => Math.max(0, Math.min(chunkSize, size - index * chunkSize))
}

/** The seeder's side of a run, from its upload trace. */
export interface SeederFigures {
  /** bytes of chunks that left the seeder for the first time / (u_s x T_last) */
  uplinkUse: number
  /** bytes of second and later copies of a chunk */
  duplicateBytes: number
  /** chunks sent at least once, of all */
  chunksSent: number
  /** T_last - when the last chunk first left the seeder, ms (-Infinity: some chunk never left it) */
  tailMs: number
  /** share of all the receivers' chunks that came from the seeder */
  fromSeeder: number
}

/**
 * Uplink utilisation, duplicates and tail of the seeder; `startEpochMs` is the clock's zero,
 * `uploadRate` the seeder's payload rate in bytes/s.
 */
export function seederFigures (uploads: TracedUpload[], opts: { startEpochMs: number, tLastMs: number, uploadRate: number, size: number, chunks: number, receivers: number }): SeederFigures {
  const bytesOf = chunkBytesOf(opts.size, opts.chunks)
  const first = new Map<number, number>()
  let duplicateBytes = 0
  let sent = 0
  for (const u of uploads) {
    if (u.atEpochMs - opts.startEpochMs > opts.tLastMs) continue
    sent++
    if (first.has(u.index)) duplicateBytes += bytesOf(u.index)
    else first.set(u.index, u.atEpochMs - opts.startEpochMs)
  }
  let firstBytes = 0
  for (const index of first.keys()) firstBytes += bytesOf(index)
  const lastFirst = first.size === opts.chunks ? Math.max(...first.values()) : Infinity
  return {
    uplinkUse: firstBytes / (opts.uploadRate * opts.tLastMs / 1000),
    duplicateBytes,
    chunksSent: first.size,
    tailMs: opts.tLastMs - lastFirst,
    fromSeeder: sent / (opts.chunks * opts.receivers)
  }
}

/** CPU-s per GiB delivered to all receivers together. */
export function cpuPerGiB (cpuMs: number, deliveredBytes: number): number {
  return (cpuMs / 1000) / (deliveredBytes / GiB)
}

/** One receiver's start, in ms from the clock's zero (NaN: not seen). */
export interface ReceiverTimes {
  nodeMs: number
  manifestMs: number
  firstChunkMs: number
  doneMs: number
  /** bytes of chunks it uploaded to other receivers by the time the last receiver was done */
  sentBytes: number
}

/** Bytes of the traced uploads up to `untilEpochMs`. */
export function uploadedBytes (uploads: TracedUpload[], untilEpochMs: number, bytesOf: (index: number) => number): number {
  let total = 0
  for (const u of uploads) if (u.atEpochMs <= untilEpochMs) total += bytesOf(u.index)
  return total
}

/** A compact table: one row per receiver, then the seeder's figures. */
/** What a run's traces say: the bytes each receiver sent to peers before T_last, and the seeder's figures. */
export function traceFigures (seeder: NodeTrace, receivers: NodeTrace[], run: { startEpochMs: number, tLastMs: number, uploadRate: number, size: number, chunks: number }): { sentBytes: number[], seeder: SeederFigures } {
  const bytesOf = chunkBytesOf(run.size, run.chunks)
  return {
    sentBytes: receivers.map(t => uploadedBytes(t.uploads, run.startEpochMs + run.tLastMs, bytesOf)),
    seeder: seederFigures(seeder.uploads, { ...run, receivers: receivers.length })
  }
}

export function printDiagnostics (receivers: ReceiverTimes[], seeder: SeederFigures | undefined, extra: { cpuMs: number, deliveredBytes: number }): void {
  const MiB = 1024 * 1024
  const s = (ms: number): string => Number.isFinite(ms) ? (ms / 1000).toFixed(2).padStart(7) : '      -'
  console.log('  diagnostics (s from t0)   node up  manifest  1st chunk     done   sent to peers')
  receivers.forEach((r, i) => {
    console.log(`    receiver ${String(i + 1).padEnd(13)} ${s(r.nodeMs)}   ${s(r.manifestMs)}    ${s(r.firstChunkMs)}  ${s(r.doneMs)}   ${(r.sentBytes / MiB).toFixed(1).padStart(6)} MiB`)
  })
  if (seeder !== undefined) {
    console.log(`    seeder: uplink use (first copies / (u_s x T_last)) ${seeder.uplinkUse.toFixed(2)}; duplicate chunk bytes ${(seeder.duplicateBytes / MiB).toFixed(1)} MiB;` +
      ` tail (T_last - last first copy) ${Number.isFinite(seeder.tailMs) ? (seeder.tailMs / 1000).toFixed(2) + ' s' : `- (only ${seeder.chunksSent} chunks left it)`};` +
      ` receivers' chunks from the seeder ${(100 * seeder.fromSeeder).toFixed(0)}%`)
  } else {
    console.log('    seeder: no upload trace')
  }
  console.log(`    CPU per GiB delivered: ${cpuPerGiB(extra.cpuMs, extra.deliveredBytes).toFixed(1)} CPU-s`)
}
