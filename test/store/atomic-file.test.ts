import assert from 'node:assert/strict'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { readJsonIfPresent, writeFileAtomic, writeJsonAtomic } from '../../src/store/index.js'
import { isShoalError } from '../../src/util/index.js'
import { TempDirs } from './helpers.js'

const temp = new TempDirs()
after(async () => { await temp.cleanup() })

describe('atomic files', () => {
  it('replaces a file and leaves no temporary behind', async () => {
    const dir = await temp.make()
    const path = join(dir, 'meta.json')
    await writeFile(path, 'old')
    await writeJsonAtomic(path, { a: 1 })
    assert.deepEqual(await readJsonIfPresent(path), { a: 1 })
    await writeFileAtomic(join(dir, 'manifest.bin'), new Uint8Array([1, 2, 3]))
    assert.deepEqual([...await readFile(join(dir, 'manifest.bin'))], [1, 2, 3])
    assert.deepEqual((await readdir(dir)).sort(), ['manifest.bin', 'meta.json'])
  })

  it('returns undefined for a missing or unparsable file and names the path on failure', async () => {
    const dir = await temp.make()
    assert.equal(await readJsonIfPresent(join(dir, 'none.json')), undefined)
    await writeFile(join(dir, 'bad.json'), '{')
    assert.equal(await readJsonIfPresent(join(dir, 'bad.json')), undefined)
    const target = join(dir, 'no-such-dir', 'x.json')
    await assert.rejects(writeJsonAtomic(target, 1),
      (err: unknown) => isShoalError(err, 'ERR_NOT_WRITABLE') && (err as Error).message.includes(target))
  })
})
