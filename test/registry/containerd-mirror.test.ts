// containerd pulling through the shoal mirror with a hosts.toml, as a node of a fleet would: its own
// containerd (temp root, state and socket), `ctr content fetch --hosts-dir`, the mirror chosen by
// containerd's `ns` parameter. Needs root (containerd) and the Debian packages; skipped otherwise.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ensureDebianTools } from '../../scripts/lib/debian-packages.js'
import { spawnShoal, type ShoalProcess } from '../cli/helpers.js'
import { run } from '../testnet/helpers.js'
import { buildTestImage, registryTools, skopeo, startRegistry, type RunningRegistry, type TestImage } from './helpers.js'

function skipReason (): string | undefined {
  if (process.getuid?.() !== 0) return 'containerd needs root'
  return registryTools() ?? ensureDebianTools([{ command: 'containerd', pkg: 'containerd' }, { command: 'ctr', pkg: 'containerd' }])
}
const SKIP = skipReason()

describe('registry mirror: containerd (ctr) with a hosts.toml mirror', { skip: SKIP, timeout: 90_000 }, () => {
  let root: string
  let upstream: RunningRegistry
  let image: TestImage
  let mirror: ShoalProcess
  let containerd: ChildProcess
  let containerdExited: Promise<void>
  let socket: string

  before(async () => {
    // short: a unix socket path is at most 107 bytes
    root = await mkdtemp('/tmp/shoal-ctrd-')
    upstream = await startRegistry(join(root, 'upstream'))
    image = await buildTestImage(join(root, 'image'), [1 << 20, 500_000, 70_000])
    const push = await skopeo(root, ['copy', '--dest-tls-verify=false', `oci:${image.dir}:${image.tag}`, `docker://${upstream.host}/test/ctr:v1`])
    assert.equal(push.code, 0, push.stderr)
    // only a named upstream: the request reaches it only through containerd's ?ns=<registry host>
    mirror = spawnShoal(['daemon', '--data-dir', join(root, 'data'), '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0',
      '--registry', '127.0.0.1:0', '--upstream', `${upstream.host}=${upstream.url}`, '--json'], { env: { DEBUG: 'shoal:registry' } })
    const registry = (await mirror.waitForLine(l => l.type === 'result', 30_000)).registry as string

    const hosts = join(root, 'certs.d', upstream.host)
    await mkdir(hosts, { recursive: true })
    await writeFile(join(hosts, 'hosts.toml'), `server = "${upstream.url}"\n\n[host."${registry}"]\n  capabilities = ["pull", "resolve"]\n`)
    socket = join(root, 'c.sock')
    const config = join(root, 'containerd.toml')
    await writeFile(config, `version = 2
root = "${join(root, 'root')}"
state = "${join(root, 'state')}"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[debug]
  address = "${socket}.debug"
`)
    containerd = spawn('containerd', ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] })
    let log = ''
    containerd.stderr!.setEncoding('utf8').on('data', (d: string) => { log += d })
    containerdExited = new Promise(resolve => { containerd.once('exit', () => { resolve() }) })
    const deadline = Date.now() + 20_000
    while (!existsSync(socket)) {
      if (Date.now() > deadline || containerd.exitCode !== null) throw new Error(`containerd did not start: ${log.slice(-2000)}`)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  })

  after(async () => {
    containerd?.kill('SIGTERM')
    await containerdExited
    mirror?.child.kill('SIGTERM')
    await mirror?.exited
    await upstream?.stop()
    if (root !== undefined) await rm(root, { recursive: true, force: true })
  })

  it('ctr fetches every blob of the image through the mirror', async () => {
    const ctr = async (...args: string[]): Promise<string> => {
      const r = await run('ctr', ['--address', socket, '--namespace', 'shoaltest', ...args], { timeoutMs: 60_000 })
      assert.equal(r.code, 0, `ctr ${args.join(' ')}: ${r.stderr}\nmirror: ${mirror.stderr().slice(-2000)}`)
      return r.stdout
    }
    await ctr('content', 'fetch', '--hosts-dir', join(root, 'certs.d'), `${upstream.host}/test/ctr:v1`)
    const held = await ctr('content', 'ls', '--quiet')
    for (const digest of [image.manifestDigest, image.configDigest, ...image.layers.map(l => l.digest)]) {
      assert.ok(held.includes(digest), `containerd holds ${digest}`)
    }
    // the upstream saw the blobs asked for by the mirror (node's fetch), never by containerd itself
    const containerdAsked = upstream.log().split('\n').filter(l => l.includes('/blobs/') && l.includes('containerd'))
    assert.deepEqual(containerdAsked, [])
    assert.ok(mirror.stderr().includes('from the upstream'), 'the mirror fetched the blobs')
  })
})
