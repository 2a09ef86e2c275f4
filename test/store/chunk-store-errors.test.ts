import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ChunkStore } from '../../src/store/index.js'
import { isShoalError } from '../../src/util/index.js'
import type { ShoalErrorCode } from '../../src/errors.js'
import { buildLayout, chunksOf, isRoot, makeData, TempDirs } from './helpers.js'

const temp = new TempDirs()
const mounts: string[] = []
after(async () => {
  for (const dir of mounts.splice(0).reverse()) {
    try { execFileSync('umount', [dir]) } catch (err) { console.log(`# umount ${dir} failed: ${String(err)}`) }
  }
  await temp.cleanup()
})

/** Mounts a tmpfs of `size` at a fresh temp dir; returns undefined (and says why) when that is not possible. */
async function mountTmpfs (size: string, t: { skip: (reason: string) => void }): Promise<string | undefined> {
  if (!isRoot) {
    t.skip('needs root to mount a tmpfs')
    console.log('# skipped: needs root to mount a tmpfs')
    return undefined
  }
  const dir = join(await temp.make(), 'mnt')
  await mkdir(dir)
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' })
  } catch (err) {
    t.skip(`cannot mount tmpfs: ${String(err)}`)
    console.log(`# skipped: cannot mount tmpfs: ${String(err)}`)
    return undefined
  }
  mounts.push(dir)
  return dir
}

const coded = (code: ShoalErrorCode, path?: string) => (err: unknown): boolean => {
  assert.ok(isShoalError(err, code), `expected ${code}, got ${String(err)}`)
  if (path !== undefined) assert.ok((err as Error).message.includes(path), `message "${(err as Error).message}" should name ${path}`)
  return true
}

/** Reopens a download store and checks that every held chunk is right on disk; returns the held indexes. */
async function consistentState (layout: ReturnType<typeof buildLayout>, chunks: Uint8Array[], root: string, stateDir: string): Promise<number[]> {
  const store = await ChunkStore.open({ layout, root, stateDir, mode: 'download', verifyReads: false })
  try {
    const held = [...store.have.indexes()]
    for (const i of held) assert.deepEqual(await store.read(i), chunks[i], `held chunk ${i} is wrong on disk`)
    return held
  } finally {
    await store.close()
  }
}

describe('ChunkStore errors', () => {
  it('ERR_UNREADABLE when the seeding source is missing or is a directory', async () => {
    const base = await temp.make()
    const file = { path: 'gone.bin', data: makeData('gone', 100) }
    const layout = buildLayout(1024, [file])
    const missing = join(base, 'gone.bin')
    await assert.rejects(ChunkStore.open({ layout, root: missing, stateDir: join(base, 's1'), mode: 'seed' }), coded('ERR_UNREADABLE', missing))

    const tree = join(base, 'tree')
    await mkdir(join(tree, 'gone.bin'), { recursive: true })
    await assert.rejects(ChunkStore.open({ layout, root: tree, stateDir: join(base, 's2'), mode: 'seed' }),
      coded('ERR_UNREADABLE', join(tree, 'gone.bin')))

    const twoFiles = buildLayout(1024, [file, { path: 'other', data: makeData('o', 5) }])
    await writeFile(missing, file.data)
    await assert.rejects(ChunkStore.open({ layout: twoFiles, root: missing, stateDir: join(base, 's3'), mode: 'seed' }), coded('ERR_UNREADABLE', missing))
  })

  it('ERR_UNREADABLE when the source has no read permission', async (t) => {
    if (isRoot) {
      console.log('# skipped: running as root, chmod 000 does not stop root from reading')
      t.skip('running as root, chmod 000 does not stop root from reading')
      return
    }
    const base = await temp.make()
    const file = { path: 'locked.bin', data: makeData('locked', 100) }
    const source = join(base, 'locked.bin')
    await writeFile(source, file.data)
    await chmod(source, 0o000)
    const store = await ChunkStore.open({ layout: buildLayout(1024, [file]), root: source, stateDir: join(base, 'state'), mode: 'seed' })
    await assert.rejects(store.read(0), coded('ERR_UNREADABLE', source))
    await store.close()
  })

  it('ERR_NOT_WRITABLE when the output folder or the state dir is blocked, ERR_ALREADY_EXISTS on a file/folder clash', async () => {
    const base = await temp.make()
    const file = { path: 'f.bin', data: makeData('nw', 100) }
    const layout = buildLayout(1024, [file])
    const blocker = join(base, 'a-file')
    await writeFile(blocker, 'in the way')
    await assert.rejects(ChunkStore.open({ layout, root: blocker, stateDir: join(base, 's1'), mode: 'download' }), coded('ERR_NOT_WRITABLE', blocker))
    await assert.rejects(ChunkStore.open({ layout, root: join(blocker, 'sub'), stateDir: join(base, 's2'), mode: 'download' }), coded('ERR_NOT_WRITABLE', blocker))
    await assert.rejects(ChunkStore.open({ layout, root: join(base, 'out'), stateDir: join(blocker, 'state'), mode: 'download' }), coded('ERR_NOT_WRITABLE', blocker))
    const out = join(base, 'out2')
    await mkdir(join(out, 'f.bin'), { recursive: true })
    await assert.rejects(ChunkStore.open({ layout, root: out, stateDir: join(base, 's3'), mode: 'download' }), coded('ERR_ALREADY_EXISTS', join(out, 'f.bin')))
    // A file where a folder must go.
    const nested = buildLayout(1024, [{ path: 'f.bin/inner', data: makeData('nw2', 10) }])
    const out3 = join(base, 'out3')
    await mkdir(out3)
    await writeFile(join(out3, 'f.bin'), '')
    await assert.rejects(ChunkStore.open({ layout: nested, root: out3, stateDir: join(base, 's4'), mode: 'download' }), coded('ERR_ALREADY_EXISTS', join(out3, 'f.bin')))
  })

  it('ERR_NOT_WRITABLE on a read-only file system', async (t) => {
    const mnt = await mountTmpfs('1m', t)
    if (mnt === undefined) return
    execFileSync('mount', ['-o', 'remount,ro', mnt])
    const file = { path: 'f.bin', data: makeData('ro', 100) }
    const layout = buildLayout(1024, [file])
    const base = await temp.make()
    await assert.rejects(ChunkStore.open({ layout, root: join(mnt, 'out'), stateDir: join(base, 'state'), mode: 'download' }),
      coded('ERR_NOT_WRITABLE', join(mnt, 'out')))
    await assert.rejects(ChunkStore.open({ layout, root: join(base, 'out'), stateDir: join(mnt, 'state'), mode: 'download' }),
      coded('ERR_NOT_WRITABLE', join(mnt, 'state')))
    const held = await consistentState(layout, chunksOf(1024, [file]), join(base, 'out'), join(base, 'state'))
    assert.deepEqual(held, [])
  })

  it('ERR_DISK_FULL when the output device fills up, and the state stays consistent', async (t) => {
    const mnt = await mountTmpfs('1m', t)
    if (mnt === undefined) return
    const chunkSize = 128 * 1024
    const file = { path: 'big.bin', data: makeData('full', 3 * 1024 * 1024) }
    const layout = buildLayout(chunkSize, [file])
    const chunks = chunksOf(chunkSize, [file])
    const root = join(mnt, 'out')
    const stateDir = join(await temp.make(), 'state')
    const store = await ChunkStore.open({ layout, root, stateDir, mode: 'download' })
    let failedAt = -1
    try {
      for (let i = 0; i < chunks.length; i++) {
        try {
          await store.write(i, chunks[i]!)
        } catch (err) {
          coded('ERR_DISK_FULL', join(root, 'big.bin'))(err)
          failedAt = i
          break
        }
      }
      assert.ok(failedAt > 0, 'the 1 MiB tmpfs filled before 3 MiB were written')
      assert.equal(store.has(failedAt), false, 'the failed chunk is not held')
      console.log(`# disk full at chunk ${failedAt} of ${chunks.length}`)
    } finally {
      await store.close()
    }
    const held = await consistentState(layout, chunks, root, stateDir)
    assert.deepEqual(held, Array.from({ length: failedAt }, (_, i) => i))
  })

  it('ERR_DISK_FULL when the state device fills up; the chunks are recorded once space returns', async (t) => {
    const mnt = await mountTmpfs('256k', t)
    if (mnt === undefined) return
    // Small chunks, so the journal records cross into a page the full device cannot give.
    const file = { path: 'f.bin', data: makeData('statefull', 64 * 1000) }
    const layout = buildLayout(64, [file])
    const chunks = chunksOf(64, [file])
    const root = join(await temp.make(), 'out')
    const stateDir = join(mnt, 'state')
    const store = await ChunkStore.open({ layout, root, stateDir, mode: 'download', flushIntervalMs: 3_600_000, flushEveryChunks: 100_000 })
    try {
      await store.write(0, chunks[0]!)
      await store.flush()
      // Fill the state device completely.
      const filler = join(mnt, 'filler')
      const block = new Uint8Array(4096)
      for (let i = 0; i < 1000; i++) {
        try { await writeFile(filler, block, { flag: 'a' }) } catch { break }
      }
      for (let i = 1; i < 800; i++) await store.write(i, chunks[i]!)
      await assert.rejects(store.flush(), coded('ERR_DISK_FULL', join(stateDir, 'have.journal')))
      assert.equal(store.has(500), true, 'data is durable, so the chunks stay held in memory')
      await rm(filler)
      await store.flush()
    } finally {
      await store.close()
    }
    const held = await consistentState(layout, chunks, root, stateDir)
    assert.deepEqual(held, Array.from({ length: 800 }, (_, i) => i))
    assert.ok(Buffer.from(chunks[700]!).equals((await readFile(join(root, 'f.bin'))).subarray(700 * 64, 701 * 64)))
  })
})
