// The CLI surface without a swarm: help, flags vs environment, --json/--quiet, usage errors and the
// one-line errors a user meets. Each case runs the real `shoal` binary in a child process.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runShoal } from './helpers.js'

describe('shoal CLI', { timeout: 120_000 }, () => {
  let work: string
  before(async () => { work = await mkdtemp(join(tmpdir(), 'shoal-cli-')) })
  after(async () => { await rm(work, { recursive: true, force: true }) })

  it('lists its commands, and every command\'s --help exits 0 with an example and the global flags', async () => {
    const top = await runShoal(['--help'])
    assert.equal(top.code, 0)
    const section = top.stdout.split('Commands:\n')[1] ?? ''
    const commands = [...section.matchAll(/^ {2}([a-z-]+)/gm)].map(m => m[1]!).filter(c => c !== 'help')
    for (const expected of ['seed', 'get', 'add', 'ls', 'status', 'cancel', 'daemon', 'bootstrap', 'id', 'swarm-key', 'demo', 'dashboard']) {
      assert.ok(commands.includes(expected), `shoal --help lists ${expected}`)
    }
    assert.match(top.stdout, /Examples:\n {2}\$ shoal /)
    for (const command of commands) {
      const r = await runShoal([command, '--help'])
      assert.equal(r.code, 0, `${command} --help`)
      assert.match(r.stdout, new RegExp(`Example:\\n {2}\\$ (SHOAL_\\w+=\\S+ )?shoal ${command}\\b`), `${command} --help has an example`)
      assert.match(r.stdout, /--bootstrap <addrs>/, `${command} --help shows the global flags`)
    }
  })

  it('prints its version', async () => {
    const r = await runShoal(['--version'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/)
  })

  it('exits 2 on an unknown command, a missing argument or a bad flag value', async () => {
    assert.equal((await runShoal(['frobnicate'])).code, 2)
    assert.equal((await runShoal(['get'])).code, 2)
    const bad = await runShoal(['id', '--data-dir', join(work, 'd-bad'), '--max-peers', 'lots'])
    assert.equal(bad.code, 2)
    assert.equal(bad.stderr, 'shoal: --max-peers: "lots" must be a whole number from 1 to 1000\n')
  })

  it('id --json prints one JSON object per line, and keeps the identity across runs', async () => {
    const dataDir = join(work, 'd-id')
    const first = await runShoal(['id', '--json', '--data-dir', dataDir])
    assert.equal(first.code, 0, first.stderr)
    const [line, ...rest] = first.json()
    assert.equal(rest.length, 0)
    assert.equal(line!.type, 'result')
    assert.equal(line!.created, true)
    assert.match(line!.peerId as string, /^12D3KooW/)
    const second = await runShoal(['id', '--json', '--data-dir', dataDir])
    assert.equal(second.json()[0]!.peerId, line!.peerId)
    assert.equal(second.json()[0]!.created, false)
    const quiet = await runShoal(['id', '--quiet', '--data-dir', dataDir])
    assert.equal(quiet.stdout, `${line!.peerId as string}\n`)
  })

  it('flags override SHOAL_* environment variables, which override the defaults', async () => {
    const fromEnv = join(work, 'd-env')
    const fromFlag = join(work, 'd-flag')
    const envOnly = await runShoal(['id', '--json'], { env: { SHOAL_DATA_DIR: fromEnv } })
    assert.equal(envOnly.json()[0]!.identityFile, join(fromEnv, 'identity.key'))
    const both = await runShoal(['id', '--json', '--data-dir', fromFlag], { env: { SHOAL_DATA_DIR: fromEnv } })
    assert.equal(both.json()[0]!.identityFile, join(fromFlag, 'identity.key'))
    // a bad environment value is reported with the variable's name, and a flag replaces it
    const badEnv = await runShoal(['id', '--data-dir', fromFlag], { env: { SHOAL_MAX_PEERS: 'lots' } })
    assert.equal(badEnv.code, 2)
    assert.match(badEnv.stderr, /^shoal: SHOAL_MAX_PEERS: "lots" must be/)
    const overridden = await runShoal(['id', '--data-dir', fromFlag, '--max-peers', '8'], { env: { SHOAL_MAX_PEERS: 'lots' } })
    assert.equal(overridden.code, 0, overridden.stderr)
  })

  it('a retired --super-seed or SHOAL_SUPER_SEED (any value) still runs, with one warning on stderr and no help entry', async () => {
    const dataDir = join(work, 'd-retired')
    const warning = (source: string): string => `shoal: ${source} is retired and ignored: every seeder now uses the first-copy policy (docs/decisions.md)\n`
    const flag = await runShoal(['id', '--json', '--super-seed', '--data-dir', dataDir])
    assert.equal(flag.code, 0, flag.stderr)
    assert.equal(flag.stderr, warning('--super-seed'))
    assert.equal(flag.json().length, 1, '--json stdout is still one result line')
    const env = await runShoal(['id', '--quiet', '--data-dir', dataDir], { env: { SHOAL_SUPER_SEED: 'maybe' } })
    assert.equal(env.code, 0, env.stderr)
    assert.equal(env.stderr, warning('SHOAL_SUPER_SEED'), 'warned even with --quiet; a bad value is no error')
    assert.equal(env.stdout, `${flag.json()[0]!.peerId as string}\n`)
    const help = await runShoal(['--help'])
    assert.ok(!help.stdout.includes('--super-seed'), 'a retired flag is not offered in --help')
  })

  it('ls and status work on a data dir without a network or daemon', async () => {
    const dataDir = join(work, 'd-ls')
    const ls = await runShoal(['ls', '--json', '--data-dir', dataDir])
    assert.equal(ls.code, 0, ls.stderr)
    assert.deepEqual(ls.json(), [{ type: 'result', contents: [] }])
    const human = await runShoal(['ls', '--data-dir', dataDir])
    assert.equal(human.stdout, 'no content\n')
    const status = await runShoal(['status', '--json', '--data-dir', dataDir])
    assert.equal(status.code, 0, status.stderr)
    const s = status.json()[0]!
    assert.match(s.peerId as string, /^12D3KooW/)
    assert.deepEqual(s.multiaddrs, [])
  })

  it('a bad CID exits 3 in one line; --debug adds the stack', async () => {
    const plain = await runShoal(['cancel', 'bafynope', '--data-dir', join(work, 'd-cid')])
    assert.equal(plain.code, 3)
    assert.equal(plain.stderr.split('\n').length, 2, plain.stderr)
    const json = await runShoal(['cancel', 'bafynope', '--json', '--data-dir', join(work, 'd-cid')])
    assert.equal(json.json()[0]!.type, 'error')
    assert.equal(json.json()[0]!.code, 'ERR_BAD_CID')
    assert.equal(json.json()[0]!.exitCode, 3)
    const debug = await runShoal(['cancel', 'bafynope', '--debug', '--data-dir', join(work, 'd-cid')])
    assert.equal(debug.code, 3)
    assert.match(debug.stderr, /\n\s+at /)
  })

  it('cancel of content the node does not hold exits 5', async () => {
    const r = await runShoal(['cancel', 'bafyreigvdpre2rqmnwd3eodt5rvk3clr2ykcu6x4lwejjiix35cczyxafa', '--data-dir', join(work, 'd-none')])
    assert.equal(r.code, 5)
    assert.match(r.stderr, /^shoal: this node has no content bafy\w+\n$/)
  })

  it('swarm-key writes a key once and refuses to overwrite it', async () => {
    const file = join(work, 'swarm.key')
    const first = await runShoal(['swarm-key', file, '--json'])
    assert.equal(first.code, 0, first.stderr)
    assert.equal(first.json()[0]!.swarmKeyFile, file)
    const again = await runShoal(['swarm-key', file])
    assert.notEqual(again.code, 0)
    assert.equal(again.stderr.trim().split('\n').length, 1, again.stderr)
  })

  it('a daemon address nobody answers at exits 9 in one line', async () => {
    const r = await runShoal(['status'], { env: { SHOAL_API: '127.0.0.1:1' } })
    assert.equal(r.code, 9)
    assert.match(r.stderr, /^shoal: no shoal daemon answers at 127\.0\.0\.1:1; .*\n$/)
  })

  it('a control API on a non-loopback address without a token is refused (exit 2)', async () => {
    const r = await runShoal(['daemon', '--api', '0.0.0.0:0', '--data-dir', join(work, 'd-daemon')])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /SHOAL_API_TOKEN/)
  })

  it('a daemon refuses a token file others can read (exit 6, one line), before opening sockets', async () => {
    const data = join(work, 'd-loose-token')
    await mkdir(data, { recursive: true })
    await writeFile(join(data, 'api.token'), 'a'.repeat(43) + '\n', { mode: 0o644 })
    await chmod(join(data, 'api.token'), 0o644)
    const r = await runShoal(['daemon', '--api', '127.0.0.1:0', '--data-dir', data, '--listen', '/ip4/127.0.0.1/tcp/0'])
    assert.equal(r.code, 6, r.stderr)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /api\.token has mode 644/)
    // a client refuses to send it too
    const client = await runShoal(['ls'], { env: { SHOAL_API: '127.0.0.1:1', SHOAL_DATA_DIR: data } })
    assert.equal(client.code, 6, client.stderr)
  })

  it('permission denied exits 6 in one line', async (t) => {
    if (process.getuid?.() !== 0) { t.skip('needs root to run the CLI as another user'); return }
    const box = join(work, 'perm')
    await mkdir(join(box, 'data'), { recursive: true })
    await chmod(work, 0o755)
    await chmod(box, 0o755)
    await chmod(join(box, 'data'), 0o777)
    const secret = join(box, 'secret.bin')
    await writeFile(secret, 'not for you')
    await chmod(secret, 0o000)
    const nobody = { uid: 65534, gid: 65534 }
    const unreadable = await runShoal(['seed', secret, '--data-dir', join(box, 'data'), '--listen', '/ip4/127.0.0.1/tcp/0'], nobody)
    assert.equal(unreadable.code, 6, unreadable.stderr)
    assert.equal(unreadable.stderr.trim().split('\n').length, 1, unreadable.stderr)
    assert.match(unreadable.stderr, /secret\.bin/)
    const noDataDir = await runShoal(['ls', '--data-dir', '/root/shoal-test-denied'], nobody)
    assert.equal(noDataDir.code, 6, noDataDir.stderr)
    assert.equal(noDataDir.stderr.trim().split('\n').length, 1, noDataDir.stderr)
  })
})
