import assert from 'node:assert/strict'
import { open, readFile, readdir, stat, writeFile, appendFile } from 'node:fs/promises'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ChunkStore } from '../../src/store/index.js'
import { isShoalError } from '../../src/util/index.js'
import { buildLayout, chunksOf, makeData, shuffledIndexes, TempDirs } from './helpers.js'
import type { TestFile } from './helpers.js'

const temp = new TempDirs()
after(async () => { await temp.cleanup() })

async function dirs (): Promise<{ root: string, stateDir: string }> {
  const base = await temp.make()
  return { root: join(base, 'out'), stateDir: join(base, 'state') }
}

async function assertFilesEqual (root: string, files: TestFile[]): Promise<void> {
  for (const file of files) {
    const onDisk = await readFile(join(root, file.path))
    assert.equal(onDisk.length, file.data.length, `${file.path} length`)
    assert.ok(Buffer.from(file.data).equals(onDisk), `${file.path} differs`)
  }
}

describe('ChunkStore download', () => {
  it('with verified: true skips the digest check but still checks the length', async () => {
    const { root, stateDir } = await dirs()
    const files = [{ path: 'v.bin', data: makeData('v', 3 * 1024) }]
    const layout = buildLayout(1024, files)
    const chunks = chunksOf(1024, files)
    const store = await ChunkStore.open({ layout, root, stateDir, mode: 'download' })
    await assert.rejects(store.write(0, chunks[0]!.subarray(1), { verified: true }), (err: unknown) => isShoalError(err, 'ERR_CHUNK_MISMATCH'))
    for (let i = 0; i < 3; i++) assert.equal(await store.write(i, chunks[i]!, { verified: true }), true)
    await store.close()
    await assertFilesEqual(root, files)
  })

  it('writes chunks out of order into a bit-identical file with a short last chunk', async () => {
    const { root, stateDir } = await dirs()
    const files = [{ path: 'one.bin', data: makeData('one', 10 * 1024 + 123) }]
    const layout = buildLayout(1024, files)
    const chunks = chunksOf(1024, files)
    const store = await ChunkStore.open({ layout, root, stateDir, mode: 'download' })
    assert.equal(store.chunkCount, 11)
    assert.equal(store.chunkLength(10), 123)
    assert.equal(store.complete, false)
    for (const i of shuffledIndexes(11)) assert.equal(await store.write(i, chunks[i]!), true)
    assert.equal(store.complete, true)
    assert.equal(await store.write(3, chunks[3]!), false, 'second write of a held chunk is a no-op')
    for (let i = 0; i < 11; i++) assert.deepEqual(await store.read(i), chunks[i])
    await store.close()
    await store.close()
    await assertFilesEqual(root, files)

    const again = await ChunkStore.open({ layout, root, stateDir, mode: 'download' })
    assert.equal(again.complete, true, 'held state survives close + reopen')
    await again.close()
  })

  it('handles multi-file layouts with zero-byte files, empty directories and exact multiples', async () => {
    const { root, stateDir } = await dirs()
    const files: TestFile[] = [
      { path: 'exact.bin', data: makeData('exact', 4096) },
      { path: 'empty.txt', data: new Uint8Array(0) },
      { path: 'deep/er/nested.bin', data: makeData('nested', 5000) },
      { path: 'deep/empty-too', data: new Uint8Array(0) },
      { path: 'z.bin', data: makeData('z', 1) }
    ]
    const layout = buildLayout(1024, files, ['void', 'deep/hollow/inner'])
    const chunks = chunksOf(1024, files)
    const store = await ChunkStore.open({ layout, root, stateDir, mode: 'download' })
    assert.equal(store.chunkCount, 4 + 5 + 1)
    assert.equal(store.chunkLength(3), 1024, 'exact multiple has no short chunk')
    assert.equal(store.chunkLength(8), 5000 - 4096)
    assert.equal(store.chunkLength(9), 1)
    // Files exist at full size before any chunk arrives.
    assert.equal((await stat(join(root, 'deep/er/nested.bin'))).size, 5000)
    for (const i of shuffledIndexes(store.chunkCount)) await store.write(i, chunks[i]!)
    await store.close()
    await assertFilesEqual(root, files)
    assert.deepEqual(await readdir(join(root, 'void')), [])
    assert.deepEqual(await readdir(join(root, 'deep/hollow/inner')), [])
    assert.ok((await stat(join(root, 'deep/hollow'))).isDirectory())
  })

  it('handles a layout of only empty files', async () => {
    const { root, stateDir } = await dirs()
    const layout = buildLayout(1024, [{ path: 'e', data: new Uint8Array(0) }])
    const store = await ChunkStore.open({ layout, root, stateDir, mode: 'download' })
    assert.equal(store.chunkCount, 0)
    assert.equal(store.complete, true)
    await store.close()
    assert.equal((await stat(join(root, 'e'))).size, 0)
  })

  it('rejects a chunk with wrong data or wrong length and writes nothing', async () => {
    const { root, stateDir } = await dirs()
    const files = [{ path: 'f.bin', data: makeData('f', 4096) }]
    const layout = buildLayout(1024, files)
    const chunks = chunksOf(1024, files)
    const store = await ChunkStore.open({ layout, root, stateDir, mode: 'download' })
    const bad = Uint8Array.from(chunks[1]!)
    bad[17] = bad[17]! ^ 1
    await assert.rejects(store.write(1, bad), (err: unknown) => isShoalError(err, 'ERR_CHUNK_MISMATCH'))
    await assert.rejects(store.write(1, chunks[1]!.subarray(0, 1000)), (err: unknown) => isShoalError(err, 'ERR_CHUNK_MISMATCH'))
    await assert.rejects(store.write(2, chunks[1]!), (err: unknown) => isShoalError(err, 'ERR_CHUNK_MISMATCH'), 'right data, wrong place')
    await assert.rejects(store.write(4, chunks[0]!), (err: unknown) => isShoalError(err, 'ERR_BAD_INDEX'))
    await assert.rejects(store.write(-1, chunks[0]!), (err: unknown) => isShoalError(err, 'ERR_BAD_INDEX'))
    assert.equal(store.has(1), false)
    await assert.rejects(store.read(1), (err: unknown) => isShoalError(err, 'ERR_NOT_HELD'))
    await store.write(0, chunks[0]!)
    await store.close()
    const onDisk = await readFile(join(root, 'f.bin'))
    assert.ok(onDisk.subarray(1024, 4096).every(b => b === 0), 'rejected chunks left the file untouched')
    const again = await ChunkStore.open({ layout, root, stateDir, mode: 'download' })
    assert.deepEqual([...again.have.indexes()], [0])
    await again.close()
  })

  it('records a chunk only after flush, and survives a torn journal tail', async () => {
    const { root, stateDir } = await dirs()
    const files = [{ path: 'g.bin', data: makeData('g', 8 * 1024) }]
    const layout = buildLayout(1024, files)
    const chunks = chunksOf(1024, files)
    const store = await ChunkStore.open({ layout, root, stateDir, mode: 'download', flushIntervalMs: 3_600_000, flushEveryChunks: 1000 })
    await store.write(5, chunks[5]!)
    const journalPath = join(stateDir, 'have.journal')
    const before = (await stat(journalPath)).size
    assert.equal(store.has(5), true, 'held in memory right away')
    assert.deepEqual(await store.read(5), chunks[5])
    assert.equal((await stat(journalPath)).size, before, 'not journaled before the flush')
    await store.flush()
    assert.equal((await stat(journalPath)).size, before + 8, 'one 8-byte record after the flush')
    await store.write(2, chunks[2]!)
    await store.flush()
    // Simulate a crash that left half a record and then garbage.
    await appendFile(journalPath, Buffer.from([0, 0, 0, 7]))
    // (no close: the journal must be read as the crash left it)
    const crashed = await ChunkStore.open({ layout, root, stateDir, mode: 'download' })
    assert.deepEqual([...crashed.have.indexes()], [2, 5])
    // New records land where the torn one was, so they are not hidden behind it.
    await crashed.write(7, chunks[7]!)
    await crashed.flush()
    await appendFile(journalPath, makeData('garbage', 13))
    const reopened = await ChunkStore.open({ layout, root, stateDir, mode: 'download' })
    assert.deepEqual([...reopened.have.indexes()], [2, 5, 7])
    await reopened.close()
    await crashed.close()
    await store.close()
  })

  it('flushes in the background after the interval and after N chunks', async () => {
    const { root, stateDir } = await dirs()
    const files = [{ path: 'bg.bin', data: makeData('bg', 8 * 1024) }]
    const layout = buildLayout(1024, files)
    const chunks = chunksOf(1024, files)
    const journalPath = join(stateDir, 'have.journal')
    const waitForRecords = async (records: number, base: number): Promise<void> => {
      for (let tries = 0; tries < 200; tries++) {
        if ((await stat(journalPath)).size >= base + records * 8) return
        await new Promise(resolve => setTimeout(resolve, 10))
      }
      assert.fail(`journal never reached ${records} records`)
    }
    const byTime = await ChunkStore.open({ layout, root, stateDir, mode: 'download', flushIntervalMs: 20, flushEveryChunks: 1000 })
    const base = (await stat(journalPath)).size
    await byTime.write(0, chunks[0]!)
    await waitForRecords(1, base)
    await byTime.close()
    const byCount = await ChunkStore.open({ layout, root, stateDir, mode: 'download', flushIntervalMs: 3_600_000, flushEveryChunks: 2 })
    const base2 = (await stat(journalPath)).size
    await byCount.write(1, chunks[1]!)
    await byCount.write(2, chunks[2]!)
    await waitForRecords(2, base2)
    await byCount.close()
  })

  it('never records a chunk found altered on disk before its commit', async () => {
    const { root, stateDir } = await dirs()
    const files = [{ path: 'f.bin', data: makeData('altered', 3000) }]
    const layout = buildLayout(1024, files)
    const chunks = chunksOf(1024, files)
    const options = { layout, root, stateDir, mode: 'download' as const, verifyReads: true, flushIntervalMs: 3_600_000, flushEveryChunks: 1000 }
    const store = await ChunkStore.open(options)
    await store.write(0, chunks[0]!)
    await store.write(1, chunks[1]!)
    const fh = await open(join(root, 'f.bin'), 'r+')
    await fh.write(new Uint8Array([chunks[1]![0]! ^ 0xff]), 0, 1, 1024)
    await fh.close()
    await assert.rejects(store.read(1), (err: unknown) => isShoalError(err, 'ERR_SOURCE_CHANGED'))
    assert.equal(store.has(1), false)
    await store.flush()
    assert.deepEqual([...store.durable.indexes()], [0], 'durable must stay a subset of have')
    // what a restart after a kill right now would hold: the journal as it is on disk
    const afterKill = await ChunkStore.open(options)
    assert.deepEqual([...afterKill.have.indexes()], [0], 'the journal claims a chunk known to be wrong')
    await afterKill.close()
    await store.close()
  })

  it('forgets held chunks of an output file that vanished or was resized while stopped', async () => {
    const { root, stateDir } = await dirs()
    const files = [{ path: 'h.bin', data: makeData('h', 3000) }, { path: 'i.bin', data: makeData('i', 3000) }]
    const layout = buildLayout(1024, files)
    const chunks = chunksOf(1024, files)
    const store = await ChunkStore.open({ layout, root, stateDir, mode: 'download' })
    for (let i = 0; i < store.chunkCount; i++) await store.write(i, chunks[i]!)
    await store.close()
    await writeFile(join(root, 'i.bin'), 'short')
    const again = await ChunkStore.open({ layout, root, stateDir, mode: 'download' })
    assert.deepEqual([...again.have.indexes()], [0, 1, 2])
    await again.close()
    const third = await ChunkStore.open({ layout, root, stateDir, mode: 'download' })
    assert.deepEqual([...third.have.indexes()], [0, 1, 2], 'the forgetting was persisted')
    await third.close()
  })

  // the store's last line of defence is the manifest's own path check (safeJoin), so both refuse alike
  it('refuses paths that leave the output folder', async () => {
    const { root, stateDir } = await dirs()
    for (const path of ['../escape', '/abs', 'a/../../b', 'a//b', 'nul\0byte']) {
      const layout = buildLayout(1024, [{ path, data: makeData('x', 10) }])
      await assert.rejects(ChunkStore.open({ layout, root, stateDir, mode: 'download' }),
        (err: unknown) => isShoalError(err, 'ERR_BAD_PATH'), path)
    }
    const layout = buildLayout(1024, [{ path: 'ok', data: makeData('x', 10) }], ['../out-dir'])
    await assert.rejects(ChunkStore.open({ layout, root, stateDir, mode: 'download' }),
      (err: unknown) => isShoalError(err, 'ERR_BAD_PATH'))
  })

  it('refuses every path a manifest may not carry, not only those that leave the folder', async () => {
    const { root, stateDir } = await dirs()
    // device names, control characters, trailing dots and drive letters stay inside the folder on
    // Linux but are refused by manifest validation; a layout that skipped it must not write them
    for (const path of ['sub/NUL.txt', 'bell\u0007', 'dot.', 'C:evil', 'a\\b']) {
      const layout = buildLayout(1024, [{ path, data: makeData('x', 10) }])
      await assert.rejects(ChunkStore.open({ layout, root, stateDir, mode: 'download' }),
        (err: unknown) => isShoalError(err, 'ERR_BAD_PATH'), JSON.stringify(path))
      await assert.rejects(stat(join(root, path)), { code: 'ENOENT' }, `${JSON.stringify(path)} was created`)
    }
  })

  it('keeps open handles bounded with many files', async () => {
    const { root, stateDir } = await dirs()
    const files = Array.from({ length: 300 }, (_, i) => ({ path: `many/f${i}`, data: makeData(`m${i}`, 700) }))
    const layout = buildLayout(1024, files)
    const chunks = chunksOf(1024, files)
    const store = await ChunkStore.open({ layout, root, stateDir, mode: 'download', maxOpenFiles: 8, flushEveryChunks: 50 })
    const fdsBefore = readdirSync('/proc/self/fd').length
    let peak = 0
    const sampler = setInterval(() => { peak = Math.max(peak, readdirSync('/proc/self/fd').length - 1) }, 1)
    try {
      await Promise.all(shuffledIndexes(300).map(async (i) => { await store.write(i, chunks[i]!) }))
    } finally {
      clearInterval(sampler)
    }
    await store.close()
    await assertFilesEqual(root, files)
    console.log(`# open fds: ${fdsBefore} before, peak ${peak} during 300 concurrent writes with maxOpenFiles=8`)
    assert.ok(peak - fdsBefore <= 8 + 4, `fd growth ${peak - fdsBefore} must stay near maxOpenFiles`)
    const again = await ChunkStore.open({ layout, root, stateDir, mode: 'download' })
    assert.equal(again.complete, true)
    await again.close()
  })

  it('compacts a large journal into a snapshot', async () => {
    const { root, stateDir } = await dirs()
    const files = [{ path: 'big.bin', data: makeData('big', 5000 * 64) }]
    const layout = buildLayout(64, files)
    const chunks = chunksOf(64, files)
    const store = await ChunkStore.open({ layout, root, stateDir, mode: 'download', flushEveryChunks: 500 })
    for (const i of shuffledIndexes(store.chunkCount).slice(0, 4700)) await store.write(i, chunks[i]!)
    await store.flush()
    const snapshot = await stat(join(stateDir, 'have.snapshot'))
    assert.ok(snapshot.size > 0, 'snapshot written')
    assert.ok((await stat(join(stateDir, 'have.journal'))).size < 4096 * 8, 'journal truncated')
    const held = [...store.have.indexes()]
    await store.close()
    const again = await ChunkStore.open({ layout, root, stateDir, mode: 'download' })
    assert.deepEqual([...again.have.indexes()], held)
    for (const i of held.slice(0, 50)) assert.deepEqual(await again.read(i), chunks[i])
    await again.close()
  })

  it('throws ERR_STORE_CLOSED after close', async () => {
    const { root, stateDir } = await dirs()
    const files = [{ path: 'c', data: makeData('c', 10) }]
    const store = await ChunkStore.open({ layout: buildLayout(1024, files), root, stateDir, mode: 'download' })
    await store.close()
    await assert.rejects(store.write(0, files[0]!.data), (err: unknown) => isShoalError(err, 'ERR_STORE_CLOSED'))
  })
})
