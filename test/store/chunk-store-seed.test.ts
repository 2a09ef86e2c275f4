import assert from 'node:assert/strict'
import { appendFile, mkdir, stat, utimes, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ChunkStore } from '../../src/store/index.js'
import { isShoalError } from '../../src/util/index.js'
import { buildLayout, chunksOf, makeData, TempDirs } from './helpers.js'
import type { TestFile } from './helpers.js'

const temp = new TempDirs()
after(async () => { await temp.cleanup() })

async function writeTree (root: string, files: TestFile[]): Promise<void> {
  for (const file of files) {
    await mkdir(dirname(join(root, file.path)), { recursive: true })
    await writeFile(join(root, file.path), file.data)
  }
}

const changed = (err: unknown): boolean => isShoalError(err, 'ERR_SOURCE_CHANGED')

describe('ChunkStore seed', () => {
  it('seeds a single file in place without copying it', async () => {
    const base = await temp.make()
    const file = { path: 'movie.bin', data: makeData('movie', 5000) }
    const source = join(base, 'movie.bin')
    await writeFile(source, file.data)
    const before = await stat(source)
    const layout = buildLayout(1024, [file])
    const chunks = chunksOf(1024, [file])
    const stateDir = join(base, 'state')
    const store = await ChunkStore.open({ layout, root: source, stateDir, mode: 'seed' })
    assert.equal(store.complete, true)
    assert.equal(store.pathOf(0), source, 'served from the original path')
    for (let i = 0; i < chunks.length; i++) assert.deepEqual(await store.read(i), chunks[i])
    assert.equal(await store.write(0, chunks[0]!), false, 'writing a held chunk is a verified no-op')
    await store.close()
    const afterStats = await stat(source)
    assert.equal(afterStats.ino, before.ino, 'same inode')
    assert.equal(afterStats.mtimeMs, before.mtimeMs, 'never written')
  })

  it('seeds a directory in place', async () => {
    const base = await temp.make()
    const files = [
      { path: 'a.bin', data: makeData('sa', 3000) },
      { path: 'x/empty', data: new Uint8Array(0) },
      { path: 'x/y/b.bin', data: makeData('sb', 1024) }
    ]
    const root = join(base, 'tree')
    await writeTree(root, files)
    const layout = buildLayout(1024, files)
    const chunks = chunksOf(1024, files)
    const store = await ChunkStore.open({ layout, root, stateDir: join(base, 'state'), mode: 'seed' })
    assert.equal(store.chunkCount, 4)
    for (let i = 0; i < 4; i++) assert.deepEqual(await store.read(i), chunks[i])
    await store.close()
  })

  it('stops serving a file that grows while seeded', async () => {
    const base = await temp.make()
    const file = { path: 's.bin', data: makeData('grow', 4096) }
    const source = join(base, 's.bin')
    await writeFile(source, file.data)
    const layout = buildLayout(1024, [file])
    const store = await ChunkStore.open({ layout, root: source, stateDir: join(base, 'state'), mode: 'seed' })
    await store.read(0)
    await appendFile(source, 'x')
    await assert.rejects(store.read(1), (err: unknown) => changed(err) && (err as Error).message.includes(source))
    assert.equal(store.has(0), false, 'no chunk of the file is held any more')
    assert.equal(store.complete, false)
    await assert.rejects(store.read(0), changed, 'stays refused')
    assert.deepEqual(store.changedFiles, ['s.bin'])
    await store.close()
  })

  it('stops serving a file rewritten in place with the same size', async () => {
    const base = await temp.make()
    const file = { path: 'r.bin', data: makeData('rewrite', 4096) }
    const source = join(base, 'r.bin')
    await writeFile(source, file.data)
    const layout = buildLayout(1024, [file])
    const store = await ChunkStore.open({ layout, root: source, stateDir: join(base, 'state'), mode: 'seed' })
    await store.read(2)
    await writeFile(source, makeData('other', 4096))
    await utimes(source, new Date(), new Date(Date.now() + 5000))
    await assert.rejects(store.read(2), changed)
    await store.close()
  })

  it('catches a change that keeps size and mtime by hashing first reads', async () => {
    const base = await temp.make()
    const file = { path: 'q.bin', data: makeData('quiet', 4096) }
    const source = join(base, 'q.bin')
    await writeFile(source, file.data)
    // Whole seconds, so setting the same mtime again is exact.
    const when = Math.floor(Date.now() / 1000) - 100
    await utimes(source, when, when)
    const layout = buildLayout(1024, [file])
    const store = await ChunkStore.open({ layout, root: source, stateDir: join(base, 'state'), mode: 'seed' })
    const altered = Uint8Array.from(file.data)
    altered[3000] = altered[3000]! ^ 0xff
    await writeFile(source, altered)
    await utimes(source, when, when)
    assert.deepEqual(await store.read(0), file.data.subarray(0, 1024), 'unaltered chunk still served')
    await assert.rejects(store.read(2), changed)
    await assert.rejects(store.read(0), changed, 'the whole file is dropped once a change is seen')
    await store.close()
  })

  it('notices a change made while stopped, across close and reopen', async () => {
    const base = await temp.make()
    const files = [{ path: 'k.bin', data: makeData('keep', 2048) }, { path: 'm.bin', data: makeData('mod', 2048) }]
    const root = join(base, 'tree')
    await writeTree(root, files)
    const layout = buildLayout(1024, files)
    const chunks = chunksOf(1024, files)
    const stateDir = join(base, 'state')
    const first = await ChunkStore.open({ layout, root, stateDir, mode: 'seed' })
    await first.close()
    await appendFile(join(root, 'm.bin'), 'tail')
    const second = await ChunkStore.open({ layout, root, stateDir, mode: 'seed' })
    assert.deepEqual([...second.have.indexes()], [0, 1], 'only the unchanged file is held')
    assert.deepEqual(await second.read(1), chunks[1])
    await assert.rejects(second.read(2), (err: unknown) => changed(err) && (err as Error).message.includes('m.bin'))
    assert.deepEqual(second.changedFiles, ['m.bin'])
    await second.close()
    // Truncating it back to the original size does not make it trusted again: its mtime moved on.
    await writeFile(join(root, 'm.bin'), files[1]!.data)
    const third = await ChunkStore.open({ layout, root, stateDir, mode: 'seed' })
    assert.deepEqual(third.changedFiles, ['m.bin'])
    await third.close()
  })

  it('refuses a source whose size does not match the layout', async () => {
    const base = await temp.make()
    const file = { path: 'w.bin', data: makeData('wrong', 2048) }
    const source = join(base, 'w.bin')
    await writeFile(source, file.data.subarray(0, 2000))
    const store = await ChunkStore.open({ layout: buildLayout(1024, [file]), root: source, stateDir: join(base, 'state'), mode: 'seed' })
    assert.equal(store.have.count, 0)
    await assert.rejects(store.read(0), changed)
    await store.close()
  })

  it('keeps open handles bounded when seeding many files', async () => {
    const base = await temp.make()
    const files = Array.from({ length: 200 }, (_, i) => ({ path: `d/f${i}`, data: makeData(`sf${i}`, 100) }))
    const root = join(base, 'tree')
    await writeTree(root, files)
    const chunks = chunksOf(1024, files)
    const store = await ChunkStore.open({ layout: buildLayout(1024, files), root, stateDir: join(base, 'state'), mode: 'seed', maxOpenFiles: 4 })
    const results = await Promise.all(files.map(async (_, i) => await store.read(i)))
    results.forEach((data, i) => assert.deepEqual(data, chunks[i]))
    await store.close()
  })
})
