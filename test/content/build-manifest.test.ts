import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { buildManifest, decodeManifest, DEFAULT_CHUNK_SIZE } from '../../src/content/index.js'
import { isShoalError } from '../../src/util/index.js'
import { C, expectedChunks, randomData, tempDir } from './helpers.js'

/** Writes `files` (relative path -> content) and `dirs` under `root`, in the order given. */
async function makeTree (root: string, files: Array<[string, Uint8Array]>, dirs: string[] = []): Promise<void> {
  for (const [rel, data] of files) {
    await mkdir(join(root, rel, '..'), { recursive: true })
    await writeFile(join(root, rel), data)
  }
  for (const d of dirs) await mkdir(join(root, d), { recursive: true })
}

describe('buildManifest', () => {
  it('makes a one-entry manifest for a single file', async () => {
    const dir = await tempDir()
    const data = randomData(3 * C + 5)
    await writeFile(join(dir, 'image.bin'), data)
    const { manifest, bytes, cid } = await buildManifest(join(dir, 'image.bin'), { chunkSize: C })
    assert.equal(manifest.version, 1)
    assert.equal(manifest.name, 'image.bin')
    assert.equal(manifest.size, data.length)
    assert.equal(manifest.chunkSize, C)
    assert.deepEqual(manifest.directories, [])
    assert.equal(manifest.files.length, 1)
    assert.equal(manifest.files[0]!.path, 'image.bin')
    assert.deepEqual(manifest.files[0]!.chunks, expectedChunks(data, C))
    assert.match(cid.toString(), /^bafy/)
    assert.deepEqual(decodeManifest(bytes, cid), manifest)
  })

  it('uses the default chunk size and an explicit name', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'f'), randomData(10))
    const { manifest } = await buildManifest(join(dir, 'f'), { name: 'release' })
    assert.equal(manifest.chunkSize, DEFAULT_CHUNK_SIZE)
    assert.equal(manifest.name, 'release')
    assert.equal(manifest.files[0]!.path, 'f')
  })

  it('lists a nested tree sorted by path, with zero-byte files and empty directories', async () => {
    const dir = await tempDir()
    const root = join(dir, 'tree')
    const tree: Array<[string, Uint8Array]> = [
      ['z.bin', randomData(C + 1)],
      ['a/b/c.txt', randomData(5)],
      ['a/empty-file', new Uint8Array(0)],
      ['a-b', randomData(C)],
      ['a/b/d/e/deep', randomData(2 * C - 1)],
      ['B', randomData(1)]
    ]
    await makeTree(root, tree, ['empty', 'a/b/nothing/here', 'a/b/d/also-empty'])
    const { manifest, bytes, cid } = await buildManifest(root, { chunkSize: C })
    assert.equal(manifest.name, 'tree')
    // UTF-8 byte order: 'B' (0x42) < 'a' (0x61), and 'a-b' < 'a/...' because '-' (0x2d) < '/' (0x2f).
    assert.deepEqual(manifest.files.map(f => f.path), ['B', 'a-b', 'a/b/c.txt', 'a/b/d/e/deep', 'a/empty-file', 'z.bin'])
    assert.deepEqual(manifest.directories, ['a/b/d/also-empty', 'a/b/nothing/here', 'empty'])
    const byPath = new Map(tree)
    for (const f of manifest.files) {
      const data = byPath.get(f.path)!
      assert.equal(f.size, data.length)
      assert.deepEqual(f.chunks, expectedChunks(data, C))
    }
    assert.equal(manifest.files.find(f => f.path === 'a/empty-file')!.chunks.length, 0)
    assert.equal(manifest.size, tree.reduce((s, [, d]) => s + d.length, 0))
    assert.deepEqual(decodeManifest(bytes, cid), manifest)
  })

  it('gives the same CID for the same tree, whatever the creation order', async () => {
    const dir = await tempDir()
    const files: Array<[string, Uint8Array]> = [
      ['x/1', randomData(100)], ['x/2', randomData(C + 3)], ['y', new Uint8Array(0)], ['x/z/3', randomData(7)]
    ]
    await makeTree(join(dir, 'one', 'content'), files, ['e1', 'x/e2'])
    await makeTree(join(dir, 'two', 'content'), [...files].reverse(), ['x/e2', 'e1'])
    const first = await buildManifest(join(dir, 'one', 'content'), { chunkSize: C })
    const again = await buildManifest(join(dir, 'one', 'content'), { chunkSize: C })
    const other = await buildManifest(join(dir, 'two', 'content'), { chunkSize: C })
    assert.equal(again.cid.toString(), first.cid.toString())
    assert.equal(other.cid.toString(), first.cid.toString())
    assert.deepEqual(other.bytes, first.bytes)
    const renamed = await buildManifest(join(dir, 'two', 'content'), { chunkSize: C, name: 'other' })
    assert.notEqual(renamed.cid.toString(), first.cid.toString())
    const bigger = await buildManifest(join(dir, 'one', 'content'), { chunkSize: 2 * C })
    assert.notEqual(bigger.cid.toString(), first.cid.toString())
  })

  it('accepts an empty directory as empty content', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'void'))
    const { manifest } = await buildManifest(join(dir, 'void'), { chunkSize: C })
    assert.deepEqual(manifest.files, [])
    assert.deepEqual(manifest.directories, [])
    assert.equal(manifest.size, 0)
  })

  it('rejects a symlink inside the tree, naming it', async () => {
    const dir = await tempDir()
    const root = join(dir, 'tree')
    await makeTree(root, [['real', randomData(3)]])
    await symlink(join(root, 'real'), join(root, 'link'))
    await assert.rejects(buildManifest(root, { chunkSize: C }),
      (err: unknown) => isShoalError(err, 'ERR_UNSUPPORTED_FILE') && err.message.includes(join(root, 'link')) && /symbolic link/.test(err.message))
  })

  it('follows a symlink given as the top-level path', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'real'), randomData(3))
    await symlink(join(dir, 'real'), join(dir, 'alias'))
    const { manifest } = await buildManifest(join(dir, 'alias'), { chunkSize: C })
    assert.equal(manifest.files[0]!.path, 'alias')
    assert.equal(manifest.size, 3)
  })

  it('rejects a FIFO inside the tree, naming it', async () => {
    const dir = await tempDir()
    const root = join(dir, 'tree')
    await makeTree(root, [['real', randomData(3)]])
    execFileSync('mkfifo', [join(root, 'pipe')])
    await assert.rejects(buildManifest(root, { chunkSize: C }),
      (err: unknown) => isShoalError(err, 'ERR_UNSUPPORTED_FILE') && err.message.includes(join(root, 'pipe')))
  })

  it('rejects a file whose name is unsafe for a manifest, naming it', async () => {
    const dir = await tempDir()
    const root = join(dir, 'tree')
    await makeTree(root, [['ok', randomData(3)], ['sub/back\\slash', randomData(1)]])
    await assert.rejects(buildManifest(root, { chunkSize: C }),
      (err: unknown) => isShoalError(err, 'ERR_BAD_PATH') && err.message.includes('back\\slash'))
  })

  it('throws ERR_UNREADABLE naming a missing path', async () => {
    const dir = await tempDir()
    const path = join(dir, 'nope')
    await assert.rejects(buildManifest(path), (err: unknown) => isShoalError(err, 'ERR_UNREADABLE') && err.message.includes(path))
  })

  it('rejects a bad chunk size or name before reading anything', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'f'), 'x')
    await assert.rejects(buildManifest(join(dir, 'f'), { chunkSize: 3 }), (err: unknown) => isShoalError(err, 'ERR_BAD_CHUNK_SIZE'))
    await assert.rejects(buildManifest(join(dir, 'f'), { name: '../up' }), (err: unknown) => isShoalError(err, 'ERR_BAD_PATH'))
  })

  it('stops when its signal is aborted', async () => {
    const dir = await tempDir()
    await makeTree(join(dir, 't'), [['a', randomData(10)]])
    await assert.rejects(buildManifest(join(dir, 't'), { signal: AbortSignal.abort() }), { name: 'AbortError' })
  })
})
