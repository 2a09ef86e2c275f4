// Every error path of the CLI exits: real `shoal` processes whose data dir is on a small tmpfs that
// fills up while they run. Before the fix the node's stop threw half-way (LevelDB could not write
// the peer store) and the process printed its error and then never exited.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, openSync, writeSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killAllShoals, spawnShoal, type ShoalProcess } from './helpers.js'

const LOOPBACK = '/ip4/127.0.0.1/tcp/0'
/** A process that has not exited this long after its error is hanging. */
const EXIT_BOUND_MS = 60_000
/** 64 KiB chunks of 40 MB: ~610 journal records of 8 bytes, so the journal outgrows its last page. */
const PAYLOAD_BYTES = 40 * 1024 * 1024

/** Writes zeros into `dir` until the device is full to the last byte (tmpfs hands out pages). */
function fillDevice (dir: string): void {
  const fd = openSync(join(dir, 'fill'), 'w')
  const block = Buffer.alloc(64 * 1024)
  try {
    for (let size = block.length; size >= 1; size = Math.floor(size / 2)) {
      // bounded: a 2 MiB device takes at most 32 full blocks, then each smaller size fails once
      for (let i = 0; i < 1024; i++) {
        try { writeSync(fd, block, 0, size) } catch { break }
      }
    }
  } finally {
    closeSync(fd)
  }
}

async function exitsWithin (p: ShoalProcess, ms: number): Promise<{ code: number | null, hung: boolean }> {
  let hung = false
  const timer = setTimeout(() => { hung = true; p.child.kill('SIGKILL') }, ms)
  const { code } = await p.exited
  clearTimeout(timer)
  return { code, hung }
}

describe('shoal exits on every error path', { timeout: 240_000 }, () => {
  let work: string
  let bootstrapAddr: string
  let cid: string
  let canMount = true
  const dir = (name: string): string => join(work, name)

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'shoal-exit-'))
    if (process.getuid?.() !== 0) { canMount = false; return }
    await writeFile(dir('payload.bin'), randomBytes(PAYLOAD_BYTES))
    const bootstrap = spawnShoal(['bootstrap', '--listen', LOOPBACK, '--data-dir', dir('data-bootstrap'), '--json'])
    bootstrapAddr = ((await bootstrap.waitForLine(l => l.type === 'result')).multiaddrs as string[])[0]!
    const seeder = spawnShoal(['seed', dir('payload.bin'), '--chunk-size', '64k', '--json', '--data-dir', dir('data-seeder'), '--listen', LOOPBACK, '--bootstrap', bootstrapAddr])
    cid = (await seeder.waitForLine(l => l.type === 'result', 60_000)).cid as string
  })

  after(async () => {
    await killAllShoals()
    await rm(work, { recursive: true, force: true })
  })

  /** Mounts a 2 MiB tmpfs at a fresh folder, runs `fn`, unmounts whatever happened. Skips where mount(8) is not allowed (not root): a full disk cannot be made otherwise. */
  async function onSmallTmpfs (t: { skip: (why: string) => void }, name: string, fn: (mount: string) => Promise<void>): Promise<void> {
    if (!canMount) { t.skip('needs root to mount a small tmpfs'); return }
    const mount = dir(name)
    await mkdir(mount)
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mount])
    } catch {
      t.skip('cannot mount tmpfs here')
      return
    }
    try {
      await fn(mount)
    } finally {
      await killAllShoals().catch(() => {})
      execFileSync('umount', ['-l', mount])
    }
  }

  it('a get whose data disk fills up mid-download exits 7 with one line', async (t) => {
    await onSmallTmpfs(t, 'small-get', async (mount) => {
      const get = spawnShoal(['get', cid, '-o', dir('out-get'), '--json', '--download-limit', '8M',
        '--data-dir', join(mount, 'data'), '--listen', LOOPBACK, '--bootstrap', bootstrapAddr])
      await get.waitForLine(l => l.type === 'progress' && (l.have as number) > 0 && (l.have as number) < (l.total as number), 60_000)
      fillDevice(mount)
      const { code, hung } = await exitsWithin(get, EXIT_BOUND_MS)
      assert.equal(hung, false, `shoal get still running ${EXIT_BOUND_MS} ms after the disk filled; stderr: ${get.stderr()}`)
      assert.equal(code, 7, get.stderr())
      assert.equal(get.stderr().trim().split('\n').length, 1, get.stderr())
      assert.match(get.stderr(), /space/)
    })
  })

  it('a get whose data disk is full before the network starts exits 7 with one line', async (t) => {
    await onSmallTmpfs(t, 'small-start', async (mount) => {
      const data = join(mount, 'data')
      // the identity fits; then not one byte is left for the datastore
      const id = spawnShoal(['id', '--data-dir', data])
      assert.equal((await exitsWithin(id, EXIT_BOUND_MS)).code, 0, id.stderr())
      fillDevice(mount)
      const get = spawnShoal(['get', cid, '-o', dir('out-start'), '--data-dir', data, '--listen', LOOPBACK, '--bootstrap', bootstrapAddr])
      const { code, hung } = await exitsWithin(get, EXIT_BOUND_MS)
      assert.equal(hung, false, `shoal get still running ${EXIT_BOUND_MS} ms after failing to start; stderr: ${get.stderr()}`)
      assert.equal(code, 7, get.stderr())
      assert.equal(get.stderr().trim().split('\n').length, 1, get.stderr())
      assert.match(get.stderr(), /space/)
    })
  })

  it('a seeder interrupted after its data disk filled up exits 0 (its normal end)', async (t) => {
    await onSmallTmpfs(t, 'small-seed', async (mount) => {
      const seed = spawnShoal(['seed', dir('payload.bin'), '--chunk-size', '64k', '--json',
        '--data-dir', join(mount, 'data'), '--listen', LOOPBACK, '--bootstrap', bootstrapAddr])
      await seed.waitForLine(l => l.type === 'result', 60_000)
      fillDevice(mount)
      seed.child.kill('SIGINT')
      const { code, hung } = await exitsWithin(seed, EXIT_BOUND_MS)
      assert.equal(hung, false, `shoal seed still running ${EXIT_BOUND_MS} ms after SIGINT; stderr: ${seed.stderr()}`)
      assert.equal(code, 0, seed.stderr())
    })
  })
})
