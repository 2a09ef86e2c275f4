import assert from 'node:assert/strict'
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { HaveJournal } from '../../src/store/have-journal.js'
import { TempDirs } from './helpers.js'

const temp = new TempDirs()
after(async () => { await temp.cleanup() })

const fingerprint = new Uint8Array(24).fill(7)
const otherFingerprint = new Uint8Array(24).fill(9)

describe('HaveJournal', () => {
  it('replays appended records and ignores a torn tail', async () => {
    const dir = await temp.make()
    const { journal, have } = await HaveJournal.open(dir, fingerprint, 100)
    assert.equal(have.count, 0)
    await journal.append([3, 99, 42])
    await journal.close()
    const path = join(dir, 'have.journal')
    const good = (await stat(path)).size
    await appendFile(path, Buffer.from([0, 0, 0, 5, 1, 2])) // torn: 6 of 8 bytes
    const second = await HaveJournal.open(dir, fingerprint, 100)
    assert.deepEqual([...second.have.indexes()], [3, 42, 99])
    assert.equal((await stat(path)).size, good, 'the torn tail was cut off')
    await second.journal.append([7])
    await second.journal.close()
    const third = await HaveJournal.open(dir, fingerprint, 100)
    assert.deepEqual([...third.have.indexes()], [3, 7, 42, 99])
    await third.journal.close()
  })

  it('stops at a record with a bad checksum and ignores a zero-filled tail', async () => {
    const dir = await temp.make()
    const { journal } = await HaveJournal.open(dir, fingerprint, 10)
    await journal.append([1, 2])
    await journal.close()
    const path = join(dir, 'have.journal')
    const bytes = await readFile(path)
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1 // corrupt record 2's checksum
    await writeFile(path, bytes)
    const reopened = await HaveJournal.open(dir, fingerprint, 10)
    assert.deepEqual([...reopened.have.indexes()], [1])
    await reopened.journal.close()
    await appendFile(path, Buffer.alloc(64)) // zero-filled tail, as some crashes leave it
    const zeroed = await HaveJournal.open(dir, fingerprint, 10)
    assert.deepEqual([...zeroed.have.indexes()], [1])
    await zeroed.journal.close()
  })

  it('discards state that belongs to another layout', async () => {
    const dir = await temp.make()
    const { journal, have } = await HaveJournal.open(dir, fingerprint, 10)
    have.set(4)
    await journal.compact(have)
    await journal.append([5])
    await journal.close()
    const other = await HaveJournal.open(dir, otherFingerprint, 10)
    assert.equal(other.have.count, 0)
    await other.journal.close()
  })

  it('compaction keeps the have-set and empties the journal', async () => {
    const dir = await temp.make()
    const { journal, have } = await HaveJournal.open(dir, fingerprint, 1000)
    const indexes = Array.from({ length: 500 }, (_, i) => i * 2)
    await journal.append(indexes)
    for (const i of indexes) have.set(i)
    assert.equal(journal.records, 500)
    await journal.compact(have)
    assert.equal(journal.records, 0)
    await journal.append([1])
    await journal.close()
    const reopened = await HaveJournal.open(dir, fingerprint, 1000)
    assert.equal(reopened.have.count, 501)
    assert.equal(reopened.have.has(1), true)
    await reopened.journal.close()
    // A corrupt snapshot is ignored, never trusted.
    const snap = await readFile(join(dir, 'have.snapshot'))
    snap[40] = snap[40]! ^ 0xff
    await writeFile(join(dir, 'have.snapshot'), snap)
    const corrupt = await HaveJournal.open(dir, fingerprint, 1000)
    assert.deepEqual([...corrupt.have.indexes()], [1])
    await corrupt.journal.close()
  })
})
