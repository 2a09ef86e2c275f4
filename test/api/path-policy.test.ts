// Path confinement of the control API, on real folders and symlinks.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PathPolicy } from '../../src/api/path-policy.js'
import { isShoalError } from '../../src/util/shoal-error.js'

describe('PathPolicy', () => {
  let work: string
  let root: string
  let outside: string
  before(async () => {
    work = await realpath(await mkdtemp(join(tmpdir(), 'shoal-paths-')))
    root = join(work, 'root')
    outside = join(work, 'outside')
    await mkdir(join(root, 'sub'), { recursive: true })
    await mkdir(outside)
    await writeFile(join(root, 'sub', 'in.bin'), 'x')
    await writeFile(join(outside, 'out.bin'), 'x')
    await symlink(join(outside, 'out.bin'), join(root, 'file-link'))
    await symlink(outside, join(root, 'dir-link'))
    await symlink(join(root, 'sub'), join(root, 'inner-link'))
  })
  after(async () => { await rm(work, { recursive: true, force: true }) })

  const notAllowed = (err: unknown): boolean => isShoalError(err, 'ERR_PATH_NOT_ALLOWED') && /SHOAL_ALLOW_PATHS/.test(err.message) && /--allow-paths/.test(err.message)

  it('returns the real path of what lies under a root', async () => {
    const policy = new PathPolicy([root])
    assert.equal(await policy.resolve(join(root, 'sub', 'in.bin')), join(root, 'sub', 'in.bin'))
    assert.equal(await policy.resolve(join(root, 'inner-link', 'in.bin')), join(root, 'sub', 'in.bin'))
    assert.equal(await policy.resolve(root), root)
    // a download folder that does not exist yet: its nearest existing ancestor decides
    assert.equal(await policy.resolve(join(root, 'new', 'deeper')), join(root, 'new', 'deeper'))
    assert.equal(await policy.resolve(join(root, 'inner-link', 'new')), join(root, 'sub', 'new'))
  })

  it('refuses paths outside, symlinks leading out, and ".." it cannot check', async () => {
    const policy = new PathPolicy([root])
    for (const p of [
      join(outside, 'out.bin'), join(root, 'file-link'), join(root, 'dir-link', 'out.bin'), join(root, 'dir-link', 'new', 'x'),
      `${root}/../outside/out.bin`, `${root}/missing/../../outside`, `${root}2`, '/'
    ]) {
      await assert.rejects(policy.resolve(p), notAllowed, p)
    }
  })

  it('allows everything under "/", and refuses relative roots', async () => {
    assert.equal(await new PathPolicy(['/']).resolve(join(outside, 'out.bin')), join(outside, 'out.bin'))
    assert.throws(() => new PathPolicy(['relative/dir']), (err: unknown) => isShoalError(err, 'ERR_BAD_CONFIG'))
  })

  it('judges roots on their real path too', async () => {
    const viaLink = new PathPolicy([join(root, 'inner-link')])
    assert.equal(await viaLink.resolve(join(root, 'sub', 'in.bin')), join(root, 'sub', 'in.bin'))
    await assert.rejects(viaLink.resolve(join(root, 'file-link')), notAllowed)
  })
})
