// Upstream authentication of the registry mirror: docker-registry with htpasswd basic auth (the
// mirror holds SHOAL_UPSTREAM_AUTH, the client none), and the anonymous bearer-token flow of Docker
// Hub and GHCR (a token service in this file in front of the same registry). No credential reaches
// the mirror's output or logs.
import assert from 'node:assert/strict'
import { createServer, request as httpRequest, type Server } from 'node:http'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { spawnShoal, type ShoalProcess } from '../cli/helpers.js'
import { buildTestImage, readPulledLayout, registryTools, skopeo, startRegistry, type RunningRegistry, type TestImage } from './helpers.js'

const LOOPBACK = '/ip4/127.0.0.1/tcp/0'
const SKIP = registryTools()
const USER = 'puller'
const PASSWORD = 'pw-' + Math.random().toString(36).slice(2)
const TOKEN = 'tok-' + Math.random().toString(36).slice(2)

describe('registry mirror: upstream authentication', { skip: SKIP, timeout: 90_000 }, () => {
  let root: string
  let upstream: RunningRegistry
  let image: TestImage
  let tokenServer: Server
  let tokenUrl: string
  let tokenRequests = 0
  const procs: ShoalProcess[] = []

  async function mirror (name: string, upstreamUrl: string, env: Record<string, string> = {}): Promise<{ proc: ShoalProcess, host: string, registry: string }> {
    const proc = spawnShoal(['daemon', '--data-dir', join(root, `data-${name}`), '--listen', LOOPBACK, '--api', '127.0.0.1:0',
      '--registry', '127.0.0.1:0', '--upstream', upstreamUrl, '--json'], { env: { DEBUG: 'shoal:*', ...env } })
    procs.push(proc)
    const registry = (await proc.waitForLine(l => l.type === 'result', 30_000)).registry as string
    return { proc, registry, host: new URL(registry).host }
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'shoal-registry-auth-'))
    upstream = await startRegistry(join(root, 'upstream'), { htpasswd: { user: USER, password: PASSWORD } })
    image = await buildTestImage(join(root, 'image'), [600_000, 300_000, 50_000])
    const push = await skopeo(root, ['copy', '--dest-tls-verify=false', '--dest-creds', `${USER}:${PASSWORD}`, `oci:${image.dir}:${image.tag}`, `docker://${upstream.host}/test/private:v1`])
    assert.equal(push.code, 0, push.stderr)
    // a bearer-token registry in front of the basic-auth one: 401 + WWW-Authenticate: Bearer realm=...
    tokenServer = createServer((req, res) => {
      if (req.url?.startsWith('/token') === true) {
        tokenRequests++
        const url = new URL(req.url, 'http://x')
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ token: url.searchParams.get('scope') === 'repository:test/private:pull' ? TOKEN : 'wrong', expires_in: 300 }))
        return
      }
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${tokenUrl}/token",service="test-registry",scope="repository:test/private:pull"`, 'content-type': 'application/json' })
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}')
        return
      }
      const forward = httpRequest(`${upstream.url}${req.url ?? '/'}`, { method: req.method, headers: { ...req.headers, host: upstream.host, authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` } }, answer => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      forward.on('error', () => { res.destroy() })
      forward.end()
    })
    await new Promise<void>(resolve => { tokenServer.listen(0, '127.0.0.1', () => { resolve() }) })
    const address = tokenServer.address()
    tokenUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  })

  after(async () => {
    for (const p of procs) p.child.kill('SIGTERM')
    await Promise.all(procs.map(async p => await p.exited))
    tokenServer?.closeAllConnections()
    await new Promise<void>(resolve => { if (tokenServer === undefined) resolve(); else tokenServer.close(() => { resolve() }) })
    await upstream?.stop()
    if (root !== undefined) await rm(root, { recursive: true, force: true })
  })

  it('basic auth: the mirror pulls with SHOAL_UPSTREAM_AUTH, the client sends none, nothing secret is printed', async () => {
    const m = await mirror('basic', upstream.url, { SHOAL_UPSTREAM_AUTH: `${USER}:${PASSWORD}` })
    const r = await skopeo(root, ['copy', '--src-tls-verify=false', `docker://${m.host}/test/private:v1`, `oci:${join(root, 'out-basic')}`])
    assert.equal(r.code, 0, `${r.stderr}\n${m.proc.stderr().split('\n').filter(l => l.includes('registry')).slice(-20).join('\n')}`)
    const pulled = await readPulledLayout(join(root, 'out-basic'))
    assert.equal(pulled.manifestDigest, image.manifestDigest)
    assert.deepEqual(pulled.blobs, [image.configDigest, ...image.layers.map(l => l.digest)])
    const printed = m.proc.stdout() + m.proc.stderr()
    assert.ok(printed.includes('shoal:registry'), 'the mirror logged (DEBUG=shoal:*)')
    assert.ok(!printed.includes(PASSWORD), 'the password is never printed')
    assert.ok(!printed.includes(Buffer.from(`${USER}:${PASSWORD}`).toString('base64')), 'nor its basic-auth form')
  })

  it('without credentials the mirror answers the spec\'s UNAUTHORIZED', async () => {
    const m = await mirror('anonymous', upstream.url)
    const res = await fetch(`${m.registry}/v2/test/private/manifests/v1`)
    assert.equal(res.status, 401)
    assert.equal(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]!.code, 'UNAUTHORIZED')
  })

  it('bearer tokens: the anonymous token flow, one token for the whole pull', async () => {
    const m = await mirror('bearer', tokenUrl)
    const r = await skopeo(root, ['copy', '--src-tls-verify=false', `docker://${m.host}/test/private:v1`, `oci:${join(root, 'out-bearer')}`])
    assert.equal(r.code, 0, r.stderr)
    assert.equal((await readPulledLayout(join(root, 'out-bearer'))).manifestDigest, image.manifestDigest)
    console.log(`token requests for one pull: ${tokenRequests}`)
    assert.ok(tokenRequests >= 1 && tokenRequests <= 2, `${tokenRequests} token requests`)
    const printed = m.proc.stdout() + m.proc.stderr()
    assert.ok(!printed.includes(TOKEN), 'the token is never printed')
    assert.equal((await readFile(join(root, 'out-bearer', 'index.json'), 'utf8')).includes(image.manifestDigest), true)
  })
})
