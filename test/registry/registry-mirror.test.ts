// The registry mirror against the real parts: Debian's docker-registry as the upstream, an OCI image
// built here and pushed with skopeo, pulled with skopeo through three `shoal daemon --registry`
// processes; the second and third mirrors take the blobs from peers, the third with the upstream
// stopped. Skipped, with the reason, where docker-registry or skopeo cannot be had.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { spawnShoal, type ShoalProcess } from '../cli/helpers.js'
import { buildTestImage, readPulledLayout, registryTools, skopeo, startRegistry, type RunningRegistry, type TestImage } from './helpers.js'

const LOOPBACK = '/ip4/127.0.0.1/tcp/0'
const SKIP = registryTools()

interface Mirror { proc: ShoalProcess, registry: string, host: string, api: string, token: string }

describe('registry mirror: skopeo through shoal from docker-registry', { skip: SKIP, timeout: 120_000 }, () => {
  let root: string
  let upstream: RunningRegistry
  let image: TestImage
  let bootstrapAddr: string
  const procs: ShoalProcess[] = []
  const mirrors: Mirror[] = []

  async function startMirror (name: string, env: Record<string, string> = {}): Promise<Mirror> {
    const dataDir = join(root, `data-${name}`)
    const proc = spawnShoal(['daemon', '--data-dir', dataDir, '--listen', LOOPBACK, '--bootstrap', bootstrapAddr,
      '--api', '127.0.0.1:0', '--registry', '127.0.0.1:0', '--upstream', upstream.url, '--json'], { env })
    procs.push(proc)
    const ready = await proc.waitForLine(l => l.type === 'result', 30_000)
    const registry = ready.registry as string
    const token = (await readFile(join(dataDir, 'api.token'), 'utf8')).trim()
    return { proc, registry, host: new URL(registry).host, api: ready.api as string, token }
  }

  async function status (m: Mirror): Promise<{ downloadedBytes: number, uploadedBytes: number }> {
    const res = await fetch(`${m.api}/v1/status`, { headers: { authorization: `Bearer ${m.token}` } })
    return await res.json() as { downloadedBytes: number, uploadedBytes: number }
  }

  async function pull (m: Mirror, ref: string, out: string): Promise<{ manifestDigest: string, blobs: string[] }> {
    const started = Date.now()
    const r = await skopeo(root, ['copy', '--src-tls-verify=false', `docker://${m.host}/${ref}`, `oci:${out}`], 90_000)
    assert.equal(r.code, 0, `skopeo copy through ${m.host} failed: ${r.stderr}\nmirror log: ${m.proc.stderr().slice(-3000)}`)
    console.log(`pulled ${ref} through ${m.host} in ${Date.now() - started} ms`)
    return await readPulledLayout(out)
  }

  function expectImage (pulled: { manifestDigest: string, blobs: string[] }): void {
    assert.equal(pulled.manifestDigest, image.manifestDigest)
    assert.deepEqual(pulled.blobs, [image.configDigest, ...image.layers.map(l => l.digest)])
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'shoal-registry-'))
    upstream = await startRegistry(join(root, 'upstream'))
    // 3 layers of random data over several chunks each (256 KiB chunks), one under a chunk
    image = await buildTestImage(join(root, 'image'), [3 << 20, (2 << 20) + 12345, 100_000])
    const push = await skopeo(root, ['copy', '--dest-tls-verify=false', `oci:${image.dir}:${image.tag}`, `docker://${upstream.host}/test/img:v1`])
    assert.equal(push.code, 0, push.stderr)
    const pushed = await fetch(`${upstream.url}/v2/test/img/manifests/v1`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })
    assert.equal(pushed.headers.get('docker-content-digest'), image.manifestDigest, 'skopeo pushed the manifest unchanged')
    const bootstrap = spawnShoal(['bootstrap', '--listen', LOOPBACK, '--data-dir', join(root, 'data-bootstrap'), '--json'])
    procs.push(bootstrap)
    bootstrapAddr = ((await bootstrap.waitForLine(l => l.type === 'result')).multiaddrs as string[])[0]!
    for (const name of ['a', 'b', 'c']) mirrors.push(await startMirror(name))
  })

  after(async () => {
    for (const p of procs) p.child.kill('SIGTERM')
    await Promise.all(procs.map(async p => await p.exited))
    await upstream?.stop()
    if (root !== undefined) await rm(root, { recursive: true, force: true })
  })

  it('pulls the image by tag through the first mirror from the upstream, every digest matching', async () => {
    expectImage(await pull(mirrors[0]!, 'test/img:v1', join(root, 'out-a')))
    for (const [digest, count] of upstream.blobGets()) assert.ok(count <= 1, `upstream served ${digest} ${count} times`)
  })

  it('serves the registry protocol: /v2/, Range, HEAD, and the spec\'s errors for bad input', async () => {
    const m = mirrors[0]!
    const base = await fetch(`${m.registry}/v2/`)
    assert.equal(base.status, 200)
    assert.equal(base.headers.get('docker-distribution-api-version'), 'registry/2.0')
    const layer = image.layers[0]!
    const whole = await readFile(join(image.dir, 'blobs', 'sha256', layer.digest.slice(7)))
    const ranged = await fetch(`${m.registry}/v2/test/img/blobs/${layer.digest}`, { headers: { range: 'bytes=1000-1999' } })
    assert.equal(ranged.status, 206)
    assert.equal(ranged.headers.get('content-range'), `bytes 1000-1999/${layer.size}`)
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), whole.subarray(1000, 2000))
    const past = await fetch(`${m.registry}/v2/test/img/blobs/${layer.digest}`, { headers: { range: `bytes=${layer.size}-` } })
    assert.equal(past.status, 416)
    // RFC 9110: a reversed range is invalid syntax, so the header is ignored and the whole blob sent
    const reversed = await fetch(`${m.registry}/v2/test/img/blobs/${layer.digest}`, { headers: { range: 'bytes=5-4' } })
    assert.equal(reversed.status, 200)
    assert.deepEqual(Buffer.from(await reversed.arrayBuffer()), whole)
    const head = await fetch(`${m.registry}/v2/test/img/manifests/v1`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('docker-content-digest'), image.manifestDigest)
    assert.equal(head.headers.get('content-type'), 'application/vnd.oci.image.manifest.v1+json')
    const byDigest = await fetch(`${m.registry}/v2/test/img/manifests/${image.manifestDigest}`)
    assert.equal(byDigest.status, 200)
    assert.equal('sha256:' + createHash('sha256').update(Buffer.from(await byDigest.arrayBuffer())).digest('hex'), image.manifestDigest)

    const oci = async (path: string, status: number, code: string, init?: RequestInit): Promise<void> => {
      const res = await fetch(`${m.registry}${path}`, init)
      const body = await res.json() as { errors: Array<{ code: string }> }
      assert.equal(res.status, status, path)
      assert.equal(body.errors[0]!.code, code, path)
    }
    await oci('/v2/no/such-repo/manifests/v1', 404, 'MANIFEST_UNKNOWN')
    await oci('/v2/test/img/manifests/nope', 404, 'MANIFEST_UNKNOWN')
    const started = Date.now()
    await oci(`/v2/test/img/blobs/sha256:${'0'.repeat(64)}`, 404, 'BLOB_UNKNOWN')
    console.log(`a missing blob answered 404 in ${Date.now() - started} ms`)
    await oci('/v2/test/img/blobs/sha256:xyz', 400, 'DIGEST_INVALID')
    await oci('/v2/test/img/blobs/md5:abcd', 400, 'DIGEST_INVALID')
    await oci('/v2/Bad..Name/blobs/sha256:xyz', 400, 'NAME_INVALID')
    await oci('/v2/test/img/blobs/uploads/', 405, 'UNSUPPORTED', { method: 'POST' })
    // a web page (DNS rebinding, cross-site fetch) is refused
    await oci('/v2/', 403, 'DENIED', { headers: { origin: 'https://evil.example' } })
  })

  it('the second mirror takes every blob from peers: the upstream served each blob once', async () => {
    const before = await status(mirrors[1]!)
    expectImage(await pull(mirrors[1]!, 'test/img:v1', join(root, 'out-b')))
    const after = await status(mirrors[1]!)
    const got = after.downloadedBytes - before.downloadedBytes
    console.log(`second mirror: ${got} bytes from peers for an image of ${image.size} bytes; upstream blob GETs: ${JSON.stringify([...upstream.blobGets()])}`)
    assert.ok(got >= image.layers.reduce((s, l) => s + l.size, 0), `downloaded ${got} bytes from peers`)
    for (const [digest, count] of upstream.blobGets()) assert.equal(count, 1, `upstream served ${digest} ${count} times`)
  })

  it('with the upstream stopped, a third mirror pulls the image by digest from peers', async () => {
    await upstream.stop()
    expectImage(await pull(mirrors[2]!, `test/img@${image.manifestDigest}`, join(root, 'out-c')))
    assert.ok((await status(mirrors[2]!)).downloadedBytes >= image.size - image.manifestSize)
    // a tag cannot be resolved without the upstream: an error the client can fall back on
    const tag = await fetch(`${mirrors[2]!.registry}/v2/test/img/manifests/v1`)
    assert.equal(tag.status, 502)
    const started = Date.now()
    const missing = await fetch(`${mirrors[2]!.registry}/v2/test/img/blobs/sha256:${'1'.repeat(64)}`)
    assert.equal(missing.status, 404)
    console.log(`a blob nobody has, upstream down: 404 in ${Date.now() - started} ms`)
  })
})
