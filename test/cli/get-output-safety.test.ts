// `shoal get` against a hostile or occupied destination: real shoal processes (bootstrap, seeder of a
// folder, receivers) on 127.0.0.1, real symlinks and files in a temp dir.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killAllShoals, runShoal, spawnShoal } from './helpers.js'

const LOOPBACK = '/ip4/127.0.0.1/tcp/0'

describe('shoal get output safety', { timeout: 240_000 }, () => {
  let work: string
  let bootstrapAddr: string
  let cid: string
  const payload = { top: randomBytes(200_000), nested: randomBytes(70_000) }
  const dir = (name: string): string => join(work, name)
  let runs = 0
  const get = async (out: string, extra: string[] = []): Promise<Awaited<ReturnType<typeof runShoal>>> => {
    const name = `r${runs++}`
    return await runShoal(['get', cid, '-o', out, '--data-dir', dir(`data-${name}`), '--listen', LOOPBACK, '--bootstrap', bootstrapAddr, ...extra])
  }

  /** A folder of someone else's files, and its exact listing and bytes. */
  const victim = async (name: string): Promise<{ path: string, snapshot: () => Promise<string> }> => {
    const path = dir(name)
    await mkdir(path)
    await writeFile(join(path, 'top.bin'), 'precious')
    await writeFile(join(path, 'other'), 'also precious')
    const snapshot = async (): Promise<string> => {
      const names = (await readdir(path)).sort()
      return JSON.stringify(await Promise.all(names.map(async n => [n, (await readFile(join(path, n))).toString('hex')])))
    }
    return { path, snapshot }
  }

  const oneLine = (stderr: string): void => { assert.equal(stderr.trim().split('\n').length, 1, stderr) }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'shoal-out-safety-'))
    await mkdir(dir('pkg/sub'), { recursive: true })
    await writeFile(dir('pkg/top.bin'), payload.top)
    await writeFile(dir('pkg/sub/nested.bin'), payload.nested)
    const bootstrap = spawnShoal(['bootstrap', '--listen', LOOPBACK, '--data-dir', dir('data-bootstrap'), '--json'])
    bootstrapAddr = ((await bootstrap.waitForLine(l => l.type === 'result')).multiaddrs as string[])[0]!
    const seeder = spawnShoal(['seed', dir('pkg'), '--chunk-size', '64k', '--json', '--data-dir', dir('data-seeder'), '--listen', LOOPBACK, '--bootstrap', bootstrapAddr])
    cid = (await seeder.waitForLine(l => l.type === 'result')).cid as string
  })

  after(async () => {
    await killAllShoals()
    await rm(work, { recursive: true, force: true })
  })

  it('refuses DIR/<folder> planted as a symlink (exit 6); its target is untouched', async () => {
    const out = dir('out-link-top')
    await mkdir(out)
    const target = await victim('victim-top')
    const before = await target.snapshot()
    await symlink(target.path, join(out, 'pkg'))
    const r = await get(out)
    assert.equal(r.code, 6, r.stderr)
    oneLine(r.stderr)
    assert.match(r.stderr, /symbolic link/)
    assert.ok(r.stderr.includes(join(out, 'pkg')), r.stderr)
    assert.equal(await target.snapshot(), before)
  })

  it('refuses DIR/<folder>/sub planted as a symlink (exit 6); nothing is written in either place', async () => {
    const out = dir('out-link-sub')
    await mkdir(join(out, 'pkg'), { recursive: true })
    const target = await victim('victim-sub')
    const before = await target.snapshot()
    await symlink(target.path, join(out, 'pkg', 'sub'))
    const r = await get(out)
    assert.equal(r.code, 6, r.stderr)
    oneLine(r.stderr)
    assert.ok(r.stderr.includes(join(out, 'pkg', 'sub')), r.stderr)
    assert.equal(await target.snapshot(), before)
    assert.deepEqual(await readdir(join(out, 'pkg')), ['sub'])
  })

  it('refuses a file it did not create (exit 10, naming --overwrite), untouched; replaces it with --overwrite', async () => {
    const out = dir('out-foreign')
    await mkdir(join(out, 'pkg'), { recursive: true })
    await writeFile(join(out, 'pkg', 'top.bin'), 'mine, not shoal\'s')
    const refused = await get(out)
    assert.equal(refused.code, 10, refused.stderr)
    oneLine(refused.stderr)
    assert.match(refused.stderr, /already exists.*--overwrite/)
    assert.equal(await readFile(join(out, 'pkg', 'top.bin'), 'utf8'), 'mine, not shoal\'s')
    assert.deepEqual(await readdir(join(out, 'pkg')), ['top.bin'], 'nothing else was created')

    const replaced = await get(out, ['--overwrite'])
    assert.equal(replaced.code, 0, replaced.stderr)
    assert.deepEqual(await readFile(join(out, 'pkg', 'top.bin')), payload.top)
    assert.deepEqual(await readFile(join(out, 'pkg', 'sub', 'nested.bin')), payload.nested)
  })

  it('a file where the content needs a folder is refused (exit 10) before anything is created', async () => {
    const out = dir('out-clash')
    await mkdir(join(out, 'pkg'), { recursive: true })
    await writeFile(join(out, 'pkg', 'sub'), 'a file')
    const r = await get(out, ['--overwrite'])
    assert.equal(r.code, 10, r.stderr)
    oneLine(r.stderr)
    assert.ok(r.stderr.includes(join(out, 'pkg', 'sub')), r.stderr)
    assert.deepEqual(await readdir(join(out, 'pkg')), ['sub'])
    assert.equal(await readFile(join(out, 'pkg', 'sub'), 'utf8'), 'a file')
  })

  it('through a daemon: a foreign file is refused and kept; get --overwrite replaces it', async () => {
    const out = dir('out-daemon')
    await mkdir(join(out, 'pkg'), { recursive: true })
    await writeFile(join(out, 'pkg', 'top.bin'), 'mine, not shoal\'s')
    const daemon = spawnShoal(['daemon', '--api', '127.0.0.1:0', '--json', '--allow-paths', work, '--data-dir', dir('data-daemon'), '--listen', LOOPBACK, '--bootstrap', bootstrapAddr])
    const api = ((await daemon.waitForLine(l => l.type === 'result')).api as string).replace(/^http:\/\//, '')
    const env = { SHOAL_API: api, SHOAL_DATA_DIR: dir('data-daemon') }
    const refused = await runShoal(['get', cid, '-o', out], { env })
    assert.equal(refused.code, 10, refused.stderr)
    assert.match(refused.stderr, /already exists.*--overwrite/)
    assert.equal(await readFile(join(out, 'pkg', 'top.bin'), 'utf8'), 'mine, not shoal\'s')
    const replaced = await runShoal(['get', cid, '-o', out, '--overwrite'], { env })
    assert.equal(replaced.code, 0, replaced.stderr)
    assert.deepEqual(await readFile(join(out, 'pkg', 'top.bin')), payload.top)
    daemon.child.kill('SIGTERM')
    assert.equal((await daemon.exited).code, 0, daemon.stderr())
  })
})
