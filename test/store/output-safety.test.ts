// What a download may do to the folder it writes into: never write through a symlink below the
// output folder, never replace a file it did not create unless told to, and refuse a file/folder
// clash before creating anything. Real files and symlinks in a temp dir.
import assert from 'node:assert/strict'
import { link, mkdir, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ChunkStore } from '../../src/store/index.js'
import type { ChunkStoreOptions } from '../../src/store/index.js'
import { isShoalError } from '../../src/util/index.js'
import type { ShoalErrorCode } from '../../src/errors.js'
import { buildLayout, chunksOf, makeData, TempDirs } from './helpers.js'
import type { TestFile } from './helpers.js'

const temp = new TempDirs()
after(async () => { await temp.cleanup() })

const CHUNK = 1024
const FILES: TestFile[] = [
  { path: 'a.bin', data: makeData('safe-a', 3 * CHUNK + 7) },
  { path: 'sub/b.bin', data: makeData('safe-b', 2 * CHUNK) }
]
const LAYOUT = buildLayout(CHUNK, FILES)
const CHUNKS = chunksOf(CHUNK, FILES)

const coded = (code: ShoalErrorCode, path: string) => (err: unknown): boolean => {
  assert.ok(isShoalError(err, code), `expected ${code}, got ${String(err)}`)
  assert.ok((err as Error).message.includes(path), `message names ${path}: ${(err as Error).message}`)
  return true
}

/** A folder holding a file the attacker wants overwritten, and its exact listing + bytes. */
async function victim (): Promise<{ dir: string, snapshot: () => Promise<Record<string, string>> }> {
  const dir = await temp.make('shoal-victim-')
  await writeFile(join(dir, 'a.bin'), 'precious a')
  await mkdir(join(dir, 'keep'))
  await writeFile(join(dir, 'b.bin'), 'precious b')
  const snapshot = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {}
    for (const name of (await readdir(dir)).sort()) {
      out[name] = name === 'keep' ? `dir:${(await readdir(join(dir, name))).join(',')}` : (await readFile(join(dir, name))).toString('hex')
    }
    return out
  }
  return { dir, snapshot }
}

/** Options for a folder content `pkg` fetched into `out` (what the downloader passes). */
function pkgOptions (out: string, stateDir: string, extra: Partial<ChunkStoreOptions> = {}): ChunkStoreOptions {
  return { layout: LAYOUT, root: join(out, 'pkg'), base: out, stateDir, mode: 'download', ...extra }
}

async function writeAll (store: ChunkStore): Promise<void> {
  for (const [i, chunk] of CHUNKS.entries()) await store.write(i, chunk)
}

describe('ChunkStore download output safety', () => {
  it('refuses a symlinked destination file, even with overwrite; the target is untouched', async () => {
    const base = await temp.make()
    const out = join(base, 'out')
    await mkdir(out)
    const target = await victim()
    const before = await target.snapshot()
    const layout = buildLayout(CHUNK, [FILES[0]!])
    await symlink(join(target.dir, 'a.bin'), join(out, 'a.bin'))
    for (const overwrite of [false, true]) {
      await assert.rejects(ChunkStore.open({ layout, root: out, stateDir: join(base, `state-${overwrite}`), mode: 'download', overwrite }),
        coded('ERR_UNSAFE_PATH', join(out, 'a.bin')))
    }
    assert.deepEqual(await target.snapshot(), before)
  })

  it('refuses DIR/<folder> as a symlink to another folder; nothing is created or changed there', async () => {
    const base = await temp.make()
    const out = join(base, 'out')
    await mkdir(out)
    const target = await victim()
    const before = await target.snapshot()
    await symlink(target.dir, join(out, 'pkg'))
    for (const overwrite of [false, true]) {
      await assert.rejects(ChunkStore.open(pkgOptions(out, join(base, `state-${overwrite}`), { overwrite })), coded('ERR_UNSAFE_PATH', join(out, 'pkg')))
    }
    assert.deepEqual(await target.snapshot(), before)
  })

  it('refuses DIR/<folder>/sub as a symlink to another folder; nothing is created in either', async () => {
    const base = await temp.make()
    const out = join(base, 'out')
    await mkdir(join(out, 'pkg'), { recursive: true })
    const target = await victim()
    const before = await target.snapshot()
    await symlink(target.dir, join(out, 'pkg', 'sub'))
    for (const overwrite of [false, true]) {
      await assert.rejects(ChunkStore.open(pkgOptions(out, join(base, `state-${overwrite}`), { overwrite })), coded('ERR_UNSAFE_PATH', join(out, 'pkg', 'sub')))
    }
    assert.deepEqual(await target.snapshot(), before)
    assert.deepEqual(await readdir(join(out, 'pkg')), ['sub'], 'a.bin was not created before the refusal')
  })

  it('refuses a destination file with other hard links, even with overwrite; the other name is untouched', async () => {
    const base = await temp.make()
    const out = join(base, 'out')
    await mkdir(join(out, 'pkg'), { recursive: true })
    const target = await victim()
    const before = await target.snapshot()
    await link(join(target.dir, 'a.bin'), join(out, 'pkg', 'a.bin'))
    await assert.rejects(ChunkStore.open(pkgOptions(out, join(base, 'state'), { overwrite: true })), coded('ERR_UNSAFE_PATH', join(out, 'pkg', 'a.bin')))
    assert.deepEqual(await target.snapshot(), before)
  })

  it('the output folder the user chose may itself be a symlink', async () => {
    const base = await temp.make()
    const real = join(base, 'real')
    await mkdir(real)
    await symlink(real, join(base, 'link'))
    const store = await ChunkStore.open(pkgOptions(join(base, 'link'), join(base, 'state')))
    await writeAll(store)
    await store.close()
    assert.deepEqual(await readFile(join(real, 'pkg', 'sub', 'b.bin')), Buffer.from(FILES[1]!.data))
  })

  it('a file swapped for a symlink after the store opened is never written through', async () => {
    const base = await temp.make()
    const out = join(base, 'out')
    const target = await victim()
    const before = await target.snapshot()
    const store = await ChunkStore.open(pkgOptions(out, join(base, 'state')))
    // the handle is opened lazily, at the first write: that open must land on the checked inode
    await rm(join(out, 'pkg', 'a.bin'))
    await symlink(join(target.dir, 'a.bin'), join(out, 'pkg', 'a.bin'))
    await assert.rejects(store.write(0, CHUNKS[0]!), (err: unknown) => isShoalError(err))
    // moved away rather than deleted, so its inode number cannot be reused by the new file
    await rename(join(out, 'pkg', 'sub', 'b.bin'), join(out, 'pkg', 'sub', 'b.old'))
    await writeFile(join(out, 'pkg', 'sub', 'b.bin'), 'someone else')
    await assert.rejects(store.write(4, CHUNKS[4]!), coded('ERR_UNSAFE_PATH', join(out, 'pkg', 'sub', 'b.bin')))
    await store.close().catch(() => {})
    assert.deepEqual(await target.snapshot(), before)
    assert.equal(await readFile(join(out, 'pkg', 'sub', 'b.bin'), 'utf8'), 'someone else')
  })

  it('refuses an existing file shoal did not create, leaves it untouched, and replaces it with overwrite', async () => {
    const base = await temp.make()
    const out = join(base, 'out')
    await mkdir(join(out, 'pkg', 'sub'), { recursive: true })
    const foreign = join(out, 'pkg', 'sub', 'b.bin')
    // same size as the content's file, so only the marker can tell it is not shoal's
    const theirs = Buffer.alloc(FILES[1]!.data.length, 7)
    await writeFile(foreign, theirs)
    await assert.rejects(ChunkStore.open(pkgOptions(out, join(base, 'state'))), (err: unknown) => {
      coded('ERR_ALREADY_EXISTS', foreign)(err)
      assert.match((err as Error).message, /--overwrite/)
      return true
    })
    assert.deepEqual(await readFile(foreign), theirs)
    assert.deepEqual(await readdir(join(out, 'pkg')), ['sub'], 'a.bin was not created before the refusal')

    const store = await ChunkStore.open(pkgOptions(out, join(base, 'state'), { overwrite: true }))
    assert.equal(store.have.count, 0)
    await store.write(0, CHUNKS[0]!)
    await store.close()
    // the resumed download reopens its own files without overwrite
    const again = await ChunkStore.open(pkgOptions(out, join(base, 'state')))
    assert.equal(again.have.count, 1)
    await writeAll(again)
    await again.close()
    for (const file of FILES) assert.deepEqual(await readFile(join(out, 'pkg', file.path)), Buffer.from(file.data))
  })

  it('a completed download is not fetched over again into the same place without overwrite', async () => {
    const base = await temp.make()
    const out = join(base, 'out')
    const store = await ChunkStore.open(pkgOptions(out, join(base, 'state')))
    await writeAll(store)
    await store.close()
    // a new state dir (the content was cancelled, or another data dir): the files are not its own
    await assert.rejects(ChunkStore.open(pkgOptions(out, join(base, 'other-state'))), coded('ERR_ALREADY_EXISTS', join(out, 'pkg', 'a.bin')))
  })

  it('a file of ours replaced between runs is refused, and with overwrite holds none of the journaled chunks', async () => {
    const base = await temp.make()
    const out = join(base, 'out')
    const stateDir = join(base, 'state')
    const store = await ChunkStore.open(pkgOptions(out, stateDir))
    await writeAll(store)
    await store.close()
    const path = join(out, 'pkg', 'a.bin')
    await rename(path, `${path}.old`)
    await writeFile(path, Buffer.alloc(FILES[0]!.data.length))
    await assert.rejects(ChunkStore.open(pkgOptions(out, stateDir)), coded('ERR_ALREADY_EXISTS', path))
    const again = await ChunkStore.open(pkgOptions(out, stateDir, { overwrite: true }))
    assert.equal(again.have.count, CHUNKS.length - 4, 'the 4 chunks of the replaced a.bin are fetched again')
    await again.close()
  })

  it('a file of ours deleted and re-created under the same inode number is not taken for ours', async (t) => {
    const base = await temp.make()
    const out = join(base, 'out')
    const stateDir = join(base, 'state')
    const store = await ChunkStore.open(pkgOptions(out, stateDir))
    await store.close()
    const path = join(out, 'pkg', 'a.bin')
    const before = await stat(path)
    if (before.birthtimeMs === 0) { t.skip('this file system reports no birth time'); return }
    await rm(path)
    await writeFile(path, Buffer.alloc(FILES[0]!.data.length))
    const after = await stat(path)
    console.log(`# inode ${before.ino === after.ino ? 'reused' : 'not reused'} by the re-created file`)
    await assert.rejects(ChunkStore.open(pkgOptions(out, stateDir)), coded('ERR_ALREADY_EXISTS', path))
  })

  it('a file-versus-folder clash anywhere in the tree is refused before anything is created', async () => {
    const files: TestFile[] = [
      { path: 'a.bin', data: makeData('clash-a', 100) },
      { path: 'x/y.bin', data: makeData('clash-y', 100) },
      { path: 'z/w.bin', data: makeData('clash-w', 100) }
    ]
    const base = await temp.make()
    const out = join(base, 'out')
    await mkdir(join(out, 'pkg'), { recursive: true })
    await writeFile(join(out, 'pkg', 'z'), 'a file where a folder goes')
    const layout = buildLayout(CHUNK, files, ['empty/dir'])
    for (const overwrite of [false, true]) {
      await assert.rejects(ChunkStore.open({ layout, root: join(out, 'pkg'), base: out, stateDir: join(base, 's1'), mode: 'download', overwrite }),
        coded('ERR_ALREADY_EXISTS', join(out, 'pkg', 'z')))
      assert.deepEqual(await readdir(join(out, 'pkg')), ['z'])
    }

    // the reverse: a folder where a file goes, last in the layout, still found first
    await rm(join(out, 'pkg', 'z'))
    await mkdir(join(out, 'pkg', 'z', 'w.bin'), { recursive: true })
    await assert.rejects(ChunkStore.open({ layout, root: join(out, 'pkg'), base: out, stateDir: join(base, 's2'), mode: 'download', overwrite: true }),
      coded('ERR_ALREADY_EXISTS', join(out, 'pkg', 'z', 'w.bin')))
    assert.deepEqual(await readdir(join(out, 'pkg')), ['z'])
    assert.deepEqual(await readdir(join(out, 'pkg', 'z')), ['w.bin'])
  })
})

describe('ChunkStore durable count', () => {
  it('counts a chunk only once its journal record is on disk, and tells listeners at each commit', async () => {
    const base = await temp.make()
    const store = await ChunkStore.open(pkgOptions(join(base, 'out'), join(base, 'state'), { flushIntervalMs: 3_600_000, flushEveryChunks: 1000 }))
    const commits: number[] = []
    const off = store.onCommit(count => { commits.push(count) })
    for (let i = 0; i < 3; i++) await store.write(i, CHUNKS[i]!)
    assert.equal(store.have.count, 3, 'readable (and served onward) at once')
    assert.equal(store.durable.count, 0, 'not durable before the group commit')
    await store.flush()
    assert.equal(store.durable.count, 3)
    assert.deepEqual(commits, [3])
    off()
    await store.write(3, CHUNKS[3]!)
    await store.close()
    assert.deepEqual(commits, [3], 'a removed listener is not called')
    const again = await ChunkStore.open(pkgOptions(join(base, 'out'), join(base, 'state')))
    assert.equal(again.durable.count, 4)
    assert.equal(again.have.count, 4)
    await again.close()
  })
})
