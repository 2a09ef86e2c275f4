// End to end: real `shoal` processes (bootstrap, seeder, receivers, a daemon) on 127.0.0.1, each
// with its own data dir, talking over TCP exactly as on a fleet.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killAllShoals, runProgram, runShoal, SHOAL_MAIN, spawnShoal, type JsonLine, type ShoalProcess } from './helpers.js'

const LOOPBACK = '/ip4/127.0.0.1/tcp/0'
const CHUNK = '256k'

describe('shoal CLI end to end', { timeout: 240_000 }, () => {
  let work: string
  let payload: Buffer
  let bootstrapAddr: string
  let cid: string
  let seeder: ShoalProcess
  let unreachable: Promise<Awaited<ReturnType<typeof runShoal>>>
  const dir = (name: string): string => join(work, name)
  const net = (name: string): string[] => ['--data-dir', dir(`data-${name}`), '--listen', LOOPBACK, '--bootstrap', bootstrapAddr]

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'shoal-e2e-'))
    payload = randomBytes(6 * 1024 * 1024 + 12345)
    await writeFile(dir('payload.bin'), payload)
    // started first because it has to wait out the no-peer timeout (about 20 s); checked at the end
    unreachable = runShoal(['get', 'bafyreigvdpre2rqmnwd3eodt5rvk3clr2ykcu6x4lwejjiix35cczyxafa', '-o', dir('nowhere'),
      '--data-dir', dir('data-unreachable'), '--listen', LOOPBACK,
      '--bootstrap', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'], { timeoutMs: 90_000 })

    const bootstrap = spawnShoal(['bootstrap', '--listen', LOOPBACK, '--data-dir', dir('data-bootstrap'), '--json'])
    const ready = await bootstrap.waitForLine(l => l.type === 'result')
    bootstrapAddr = (ready.multiaddrs as string[])[0]!
    assert.match(bootstrapAddr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW/)

    seeder = spawnShoal(['seed', dir('payload.bin'), '--chunk-size', CHUNK, '--json', ...net('seeder')])
    const seeded = await seeder.waitForLine(l => l.type === 'result')
    cid = seeded.cid as string
    assert.match(cid, /^bafy/)
    assert.equal(seeded.size, payload.length)
  })

  after(async () => {
    await killAllShoals()
    await rm(work, { recursive: true, force: true })
  })

  /** Every stdout line is one JSON object with a type. */
  const assertJsonLines = (lines: JsonLine[]): void => {
    assert.ok(lines.length > 0)
    for (const line of lines) assert.equal(typeof line.type, 'string')
  }

  it('two receivers each fetch a bit-identical copy and exit 0', async () => {
    const results = await Promise.all(['r1', 'r2'].map(async name => {
      const out = dir(`out-${name}`)
      const r = await runShoal(['get', cid, '-o', out, '--json', ...net(name)])
      return { r, out }
    }))
    for (const { r, out } of results) {
      assert.equal(r.code, 0, r.stderr)
      const lines = r.json()
      assertJsonLines(lines)
      const result = lines.find(l => l.type === 'result')!
      assert.equal(result.cid, cid)
      assert.equal(result.path, join(out, 'payload.bin'))
      assert.ok(lines.some(l => l.type === 'node'))
      assert.deepEqual(await readFile(join(out, 'payload.bin')), payload)
    }
  })

  it('Ctrl-C stops a get with exit code 130, and the next get resumes from the saved state', async () => {
    const out = dir('out-interrupted')
    const args = ['get', cid, '-o', out, '--json', ...net('interrupted')]
    const first = spawnShoal([...args, '--download-limit', '1M'])
    const progress = await first.waitForLine(l => l.type === 'progress' && (l.have as number) > 0 && (l.have as number) < (l.total as number))
    first.child.kill('SIGINT')
    const { code } = await first.exited
    assert.equal(code, 130, first.stderr())
    const errors = first.stderr().trim().split('\n').filter(l => l.startsWith('shoal:'))
    assert.equal(errors.length, 1, first.stderr())
    assert.ok(!/\n\s+at /.test(first.stderr()), 'no stack trace without --debug')

    const second = await runShoal(args)
    assert.equal(second.code, 0, second.stderr)
    const result = second.json().find(l => l.type === 'result')!
    const total = progress.total as number
    assert.ok((result.fetchedChunks as number) < total, `resumed: fetched ${String(result.fetchedChunks)} of ${total} chunks`)
    assert.deepEqual(await readFile(join(out, 'payload.bin')), payload)
  })

  it('--quiet prints only the result', async () => {
    const out = dir('out-quiet')
    const r = await runShoal(['get', cid, '-o', out, '--quiet', ...net('quiet')])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, join(out, 'payload.bin') + '\n')
  })

  it('draws a live progress bar on a real terminal (under script(1))', async (t) => {
    const { execFileSync } = await import('node:child_process')
    try { execFileSync('script', ['--version']) } catch { t.skip('script(1) from util-linux is not installed'); return }
    const out = dir('out-tty')
    const command = [process.execPath, SHOAL_MAIN, 'get', cid, '-o', out, '--download-limit', '2M', ...net('tty')].join(' ')
    const r = await runProgram('script', ['-qec', command, '/dev/null'])
    assert.equal(r.code, 0, r.stdout)
    const frames = r.stdout.split('\r\x1b[2K').slice(1)
    assert.ok(frames.length >= 2, `at least two redraws: ${JSON.stringify(r.stdout)}`)
    for (const frame of frames.slice(0, -1)) assert.match(frame, /^\[[#-]{28}\] +\d+\.\d% +[\d.]+ \w+\/[\d.]+ MiB +[\d.]+ \w+\/s +\d+ peers +ETA \S+$/)
    assert.match(r.stdout, /done: .*payload\.bin .*every chunk verified/)
    assert.deepEqual(await readFile(join(out, 'payload.bin')), payload)
  })

  it('a daemon serves get/ls/status/add/cancel through its control API', async () => {
    // the daemon reads and writes under the test's temp folder only when told so
    const daemon = spawnShoal(['daemon', '--api', '127.0.0.1:0', '--json', '--allow-paths', work, ...net('daemon')])
    const ready = await daemon.waitForLine(l => l.type === 'result')
    const api = (ready.api as string).replace(/^http:\/\//, '')
    assert.match(api, /^127\.0\.0\.1:\d+$/)
    // clients find the daemon's token in its data dir (<data dir>/api.token), as the same user would
    const env = { SHOAL_API: api, SHOAL_DATA_DIR: dir('data-daemon') }

    const out = dir('out-daemon')
    const got = await runShoal(['get', cid, '-o', out, '--json'], { env })
    assert.equal(got.code, 0, got.stderr)
    assertJsonLines(got.json())
    assert.deepEqual(await readFile(join(out, 'payload.bin')), payload)

    const ls = await runShoal(['ls', '--json'], { env })
    assert.equal(ls.code, 0, ls.stderr)
    const listed = (ls.json().find(l => l.type === 'result')!.contents as Array<{ cid: string, have: number, chunks: number }>)
    const entry = listed.find(c => c.cid === cid)
    assert.ok(entry !== undefined)
    assert.equal(entry.have, entry.chunks)

    const status = await runShoal(['status', '--json'], { env })
    assert.equal(status.code, 0, status.stderr)
    const s = status.json().find(l => l.type === 'result')!
    assert.equal(s.peerId, (ready.peerId as string))
    assert.ok((s.peers as number) >= 1)

    const extra = randomBytes(300_000)
    await writeFile(dir('extra.bin'), extra)
    const added = await runShoal(['add', dir('extra.bin'), '--json'], { env })
    assert.equal(added.code, 0, added.stderr)
    const addedCid = added.json().find(l => l.type === 'result')!.cid as string
    assert.match(addedCid, /^bafy/)

    // another receiver fetches what the daemon added: the daemon really seeds it
    const fetched = await runShoal(['get', addedCid, '-o', dir('out-extra'), '--json', ...net('extra')])
    assert.equal(fetched.code, 0, fetched.stderr)
    assert.deepEqual(await readFile(join(dir('out-extra'), 'extra.bin')), extra)

    const cancelled = await runShoal(['cancel', addedCid, '--json'], { env })
    assert.equal(cancelled.code, 0, cancelled.stderr)
    const after = await runShoal(['ls', '--json'], { env })
    const cids = (after.json().find(l => l.type === 'result')!.contents as Array<{ cid: string }>).map(c => c.cid)
    assert.ok(!cids.includes(addedCid))
    assert.ok(cids.includes(cid))

    const unknown = await runShoal(['cancel', addedCid], { env })
    assert.equal(unknown.code, 5, unknown.stderr)
    assert.equal(unknown.stderr.trim().split('\n').length, 1)

    daemon.child.kill('SIGTERM')
    assert.equal((await daemon.exited).code, 0, daemon.stderr())
    const gone = await runShoal(['ls'], { env })
    assert.equal(gone.code, 9)
    assert.match(gone.stderr, /^shoal: no shoal daemon answers at 127\.0\.0\.1:\d+; /)
  })

  it('a bad CID exits 3 with one line and no network', async () => {
    const r = await runShoal(['get', 'not-a-cid', '-o', dir('bad'), '--data-dir', dir('data-bad')])
    assert.equal(r.code, 3)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /^shoal: "not-a-cid" is not a valid content ID .*\n$/)
  })

  it('a missing source path exits 6 with one line', async () => {
    const r = await runShoal(['seed', dir('no-such-file'), '--data-dir', dir('data-missing'), '--listen', LOOPBACK])
    assert.equal(r.code, 6, r.stderr)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  })

  it('a port in use exits 8 with one line', async () => {
    const bootstrapPort = /\/tcp\/(\d+)\//.exec(bootstrapAddr)![1]!
    const r = await runShoal(['bootstrap', '--listen', `/ip4/127.0.0.1/tcp/${bootstrapPort}`, '--data-dir', dir('data-clash')])
    assert.equal(r.code, 8, r.stderr)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /in use/)
  })

  it('a full disk exits 7 with one line', async (t) => {
    if (process.getuid?.() !== 0) { t.skip('needs root to mount a small tmpfs'); return }
    const small = dir('small')
    await mkdir(small)
    const { execFileSync } = await import('node:child_process')
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small])
    } catch {
      t.skip('cannot mount tmpfs here')
      return
    }
    try {
      const r = await runShoal(['get', cid, '-o', small, ...net('full')])
      assert.equal(r.code, 7, r.stderr)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.match(r.stderr, /space/)
    } finally {
      execFileSync('umount', [small])
    }
  })

  it('an unreachable bootstrap node exits 4 with one line', async () => {
    const r = await unreachable
    assert.equal(r.code, 4, r.stderr)
    assert.equal(r.stdout.includes('"type":"error"'), false)
    assert.match(r.stderr, /^shoal: no bootstrap node answered \(.*\n$/)
  })
})
