import { crc32 } from 'node:zlib'
import { open, readFile } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { defaultLogger } from '@libp2p/logger'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import { equals } from 'uint8arrays/equals'
import { Bitfield } from '../util/bitfield.js'
import { fsyncDirectory, writeFileAtomic } from './atomic-file.js'
import {
  FINGERPRINT_LENGTH, HAVE_JOURNAL_FILE, HAVE_SNAPSHOT_FILE, JOURNAL_COMPACT_FACTOR, JOURNAL_COMPACT_MIN_RECORDS,
  JOURNAL_MAGIC, JOURNAL_RECORD_LENGTH, SNAPSHOT_MAGIC
} from './constants.js'
import { writeFully } from './file-io.js'
import { toStoreError } from './store-errors.js'

const encoder = new TextEncoder()
const HEADER_LENGTH = JOURNAL_MAGIC.length + FINGERPRINT_LENGTH

/**
 * The persisted have-set: a snapshot bitfield plus an append-only journal of chunk indexes. Every
 * record carries a CRC seeded with the layout fingerprint, so a torn tail after a crash (or a record
 * from another layout) fails its check and replay stops there. Callers append only indexes whose
 * data is already durable.
 */
export class HaveJournal {
  readonly journalPath: string
  readonly snapshotPath: string
  readonly #fingerprint: Uint8Array
  readonly #seed: number
  readonly #length: number
  #handle: FileHandle
  /** Byte offset where the next record goes; everything before it is valid. */
  #end: number

  private constructor (dir: string, fingerprint: Uint8Array, length: number, handle: FileHandle, end: number) {
    this.journalPath = join(dir, HAVE_JOURNAL_FILE)
    this.snapshotPath = join(dir, HAVE_SNAPSHOT_FILE)
    this.#fingerprint = fingerprint
    this.#seed = seedOf(fingerprint)
    this.#length = length
    this.#handle = handle
    this.#end = end
  }

  /**
   * Opens (or creates) the journal in `dir` and replays snapshot + journal into a bitfield of `length`
   * bits. State written for a different layout is discarded. A torn tail is cut off so later appends
   * are never hidden behind garbage.
   */
  static async open (dir: string, fingerprint: Uint8Array, length: number, options: { logger?: ComponentLogger } = {}): Promise<{ journal: HaveJournal, have: Bitfield }> {
    const log = (options.logger ?? defaultLogger()).forComponent('shoal:store:journal')
    const journalPath = join(dir, HAVE_JOURNAL_FILE)
    const snapshotPath = join(dir, HAVE_SNAPSHOT_FILE)
    const have = (await readSnapshot(snapshotPath, fingerprint, length, log)) ?? new Bitfield(length)
    let handle: FileHandle
    try {
      handle = await open(journalPath, 'a+')
      await handle.close()
      handle = await open(journalPath, 'r+')
    } catch (err) {
      throw toStoreError(err, journalPath, 'write')
    }
    try {
      const bytes = await handle.readFile()
      const header = headerOf(fingerprint)
      let end: number
      if (bytes.length >= HEADER_LENGTH && equals(bytes.subarray(0, HEADER_LENGTH), header)) {
        end = replay(bytes, seedOf(fingerprint), have)
        if (end !== bytes.length) {
          log('journal %s: ignoring %d bytes of torn or invalid tail', journalPath, bytes.length - end)
          await handle.truncate(end)
          await handle.sync()
        }
      } else {
        if (bytes.length > 0) log('journal %s belongs to another layout or format; starting it afresh', journalPath)
        await handle.truncate(0)
        await handle.write(header, 0, header.length, 0)
        await handle.sync()
        await fsyncDirectory(dir)
        end = HEADER_LENGTH
      }
      return { journal: new HaveJournal(dir, fingerprint, length, handle, end), have }
    } catch (err) {
      await handle.close().catch(() => {})
      throw toStoreError(err, journalPath, 'write')
    }
  }

  /** Number of records in the journal. */
  get records (): number {
    return (this.#end - HEADER_LENGTH) / JOURNAL_RECORD_LENGTH
  }

  /** True when folding the journal into a snapshot would pay off. */
  get wantsCompaction (): boolean {
    const recordBytes = this.#end - HEADER_LENGTH
    return this.records >= JOURNAL_COMPACT_MIN_RECORDS && recordBytes > JOURNAL_COMPACT_FACTOR * Math.ceil(this.#length / 8)
  }

  /**
   * Appends records for `indexes` and fsyncs. On failure nothing is counted as appended: the next
   * append writes over whatever part of the failed one reached the file.
   */
  async append (indexes: readonly number[]): Promise<void> {
    if (indexes.length === 0) return
    const buf = new Uint8Array(indexes.length * JOURNAL_RECORD_LENGTH)
    const view = new DataView(buf.buffer)
    indexes.forEach((index, i) => {
      const at = i * JOURNAL_RECORD_LENGTH
      view.setUint32(at, index)
      view.setUint32(at + 4, crc32(buf.subarray(at, at + 4), this.#seed))
    })
    try {
      await writeFully(this.#handle, buf, this.#end)
      await this.#handle.datasync()
    } catch (err) {
      throw toStoreError(err, this.journalPath, 'write')
    }
    this.#end += buf.length
  }

  /** Writes `have` as the new snapshot (atomically) and then empties the journal. */
  async compact (have: Bitfield): Promise<void> {
    await writeFileAtomic(this.snapshotPath, encodeSnapshot(this.#fingerprint, have))
    // A crash here leaves records already covered by the snapshot: replaying them again is harmless.
    try {
      await this.#handle.truncate(HEADER_LENGTH)
      await this.#handle.sync()
    } catch (err) {
      throw toStoreError(err, this.journalPath, 'write')
    }
    this.#end = HEADER_LENGTH
  }

  async close (): Promise<void> {
    await this.#handle.close()
  }
}

function headerOf (fingerprint: Uint8Array): Uint8Array {
  const header = new Uint8Array(HEADER_LENGTH)
  header.set(encoder.encode(JOURNAL_MAGIC), 0)
  header.set(fingerprint, JOURNAL_MAGIC.length)
  return header
}

function seedOf (fingerprint: Uint8Array): number {
  return new DataView(fingerprint.buffer, fingerprint.byteOffset, 4).getUint32(0)
}

/** Sets every valid record's index in `have`; returns the offset just past the last valid record. */
function replay (bytes: Uint8Array, seed: number, have: Bitfield): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = HEADER_LENGTH
  while (at + JOURNAL_RECORD_LENGTH <= bytes.length) {
    const index = view.getUint32(at)
    if (view.getUint32(at + 4) !== crc32(bytes.subarray(at, at + 4), seed) || index >= have.length) break
    have.set(index)
    at += JOURNAL_RECORD_LENGTH
  }
  return at
}

function encodeSnapshot (fingerprint: Uint8Array, have: Bitfield): Uint8Array {
  const body = new Uint8Array(SNAPSHOT_MAGIC.length + FINGERPRINT_LENGTH + 4 + have.bytes.length + 4)
  const view = new DataView(body.buffer)
  body.set(encoder.encode(SNAPSHOT_MAGIC), 0)
  body.set(fingerprint, SNAPSHOT_MAGIC.length)
  view.setUint32(SNAPSHOT_MAGIC.length + FINGERPRINT_LENGTH, have.length)
  body.set(have.bytes, SNAPSHOT_MAGIC.length + FINGERPRINT_LENGTH + 4)
  view.setUint32(body.length - 4, crc32(body.subarray(0, body.length - 4)))
  return body
}

async function readSnapshot (path: string, fingerprint: Uint8Array, length: number, log: Logger): Promise<Bitfield | undefined> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw toStoreError(err, path, 'read')
  }
  const prefix = SNAPSHOT_MAGIC.length + FINGERPRINT_LENGTH + 4
  const size = Math.ceil(length / 8)
  if (bytes.length !== prefix + size + 4) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const valid = equals(bytes.subarray(0, SNAPSHOT_MAGIC.length), encoder.encode(SNAPSHOT_MAGIC)) &&
    equals(bytes.subarray(SNAPSHOT_MAGIC.length, SNAPSHOT_MAGIC.length + FINGERPRINT_LENGTH), fingerprint) &&
    view.getUint32(SNAPSHOT_MAGIC.length + FINGERPRINT_LENGTH) === length &&
    view.getUint32(bytes.length - 4) === crc32(bytes.subarray(0, bytes.length - 4))
  if (!valid) {
    log('snapshot %s is invalid or belongs to another layout; ignoring it', path)
    return undefined
  }
  try {
    return new Bitfield(length, bytes.subarray(prefix, prefix + size))
  } catch {
    return undefined
  }
}
