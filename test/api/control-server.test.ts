// The daemon's HTTP control API, served by real nodes on loopback and called over real HTTP.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { connect, createServer } from 'node:net'
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ControlClient, ControlServer, createShoal, isShoalError, type Shoal } from '../../src/index.js'

// response bodies are arbitrary JSON; the assertions check their shape
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

const UNKNOWN_CID = 'bafyreigvdpre2rqmnwd3eodt5rvk3clr2ykcu6x4lwejjiix35cczyxafa'

/** One HTTP request with full control of the headers (fetch will not send a foreign Host). */
async function rawRequest (at: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number, json: Json, headers: Record<string, unknown> }> {
  const url = new URL(at)
  return await new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers, setHost: !('host' in headers), timeout: 10_000 }, res => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => {
        let json: unknown
        try { json = JSON.parse(Buffer.concat(parts).toString('utf8')) } catch { json = undefined }
        resolve({ status: res.statusCode ?? 0, json, headers: res.headers })
      })
    })
    req.on('timeout', () => { req.destroy(new Error('timed out')) })
    req.on('error', reject)
    req.end(body)
  })
}

const corsHeaders = (headers: Record<string, unknown>): string[] => Object.keys(headers).filter(h => h.startsWith('access-control-'))

describe('ControlServer', { timeout: 120_000 }, () => {
  let work: string
  let seeder: Shoal
  let receiver: Shoal
  let server: ControlServer
  let base: string
  const servers: ControlServer[] = []
  // each server's token, by base URL; a request sends it unless headers.authorization says otherwise ('' = none)
  const tokens = new Map<string, string>()
  const serve = async (s: ControlServer, node: Shoal): Promise<string> => {
    servers.push(s)
    const at = await s.start(node)
    tokens.set(at, s.token!)
    return at
  }
  const request = async (method: string, path: string, body?: string, headers: Record<string, string> = {}, at = base): Promise<{ status: number, json: Json, text: string, type: string, headers: Headers }> => {
    const all: Record<string, string> = {}
    if (body !== undefined) all['content-type'] = 'application/json'
    if (tokens.has(at)) all.authorization = `Bearer ${tokens.get(at)!}`
    Object.assign(all, headers)
    if (all.authorization === '') delete all.authorization
    const res = await fetch(at + path, { method, body, headers: all })
    const text = await res.text()
    let json: unknown
    try { json = JSON.parse(text) } catch { json = undefined }
    return { status: res.status, json, text, type: res.headers.get('content-type') ?? '', headers: res.headers }
  }
  const assertError = (r: { status: number, json: Json }, status: number, code: string): void => {
    assert.equal(r.status, status, JSON.stringify(r.json))
    assert.equal(r.json.error.code, code)
    assert.equal(typeof r.json.error.message, 'string')
    assert.ok(r.json.error.message.length > 10)
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'shoal-api-'))
    seeder = createShoal({ dataDir: join(work, 'seeder'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    await seeder.start()
    receiver = createShoal({ dataDir: join(work, 'receiver'), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: seeder.multiaddrs })
    await receiver.start()
    server = new ControlServer({ address: '127.0.0.1:0', allowPaths: [work] })
    base = await serve(server, seeder)
  })

  after(async () => {
    await Promise.allSettled(servers.map(async s => { await s.stop() }))
    await Promise.allSettled([seeder, receiver].map(async n => { await n?.stop() }))
    await rm(work, { recursive: true, force: true })
  })

  it('GET /v1/health and /v1/status describe the node', async () => {
    const health = await request('GET', '/v1/health')
    assert.equal(health.status, 200)
    assert.equal(health.json.ok, true)
    assert.equal(health.json.peerId, seeder.peerId)
    const status = await request('GET', '/v1/status')
    assert.equal(status.status, 200)
    assert.equal(status.json.peerId, seeder.peerId)
    assert.deepEqual(status.json.multiaddrs, seeder.multiaddrs)
    for (const key of ['peers', 'contents', 'uploadedBytes', 'downloadedBytes', 'uploadRateBps', 'downloadRateBps', 'uptimeMs']) {
      assert.equal(typeof status.json[key], 'number', key)
    }
  })

  it('POST /v1/contents adds a file; GET lists it; a receiver downloads it through POST /v1/downloads', async () => {
    const data = randomBytes(700_000)
    await writeFile(join(work, 'a.bin'), data)
    const added = await request('POST', '/v1/contents', JSON.stringify({ path: join(work, 'a.bin'), chunkSize: 65536 }))
    assert.equal(added.status, 201, added.text)
    assert.match(added.json.cid, /^bafy/)
    assert.equal(added.json.size, data.length)
    assert.equal(added.json.chunks, 11)

    const list = await request('GET', '/v1/contents')
    assert.equal(list.status, 200)
    assert.deepEqual(list.json.contents.map((c: { cid: string }) => c.cid), [added.json.cid])
    const one = await request('GET', `/v1/contents/${added.json.cid as string}`)
    assert.equal(one.status, 200)
    assert.equal(one.json.state, 'seeding')
    assert.equal(one.json.have, 11)

    // the receiver's own API: start the download, then poll until it completes
    const receiverServer = new ControlServer({ address: '127.0.0.1:0', allowPaths: [work] })
    const receiverBase = await serve(receiverServer, receiver)
    const out = join(work, 'out')
    const started = await request('POST', '/v1/downloads', JSON.stringify({ cid: added.json.cid, out }), {}, receiverBase)
    assert.equal(started.status, 202, started.text)
    assert.equal(started.json.cid, added.json.cid)
    let info: Json
    for (let i = 0; i < 120; i++) {
      info = (await request('GET', `/v1/contents/${added.json.cid as string}`, undefined, {}, receiverBase)).json
      if (info.state === 'seeding' || info.state === 'complete' || info.state === 'error') break
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    assert.equal(info.state, 'seeding', JSON.stringify(info))
    assert.equal(info.have, 11)
    assert.deepEqual(await readFile(join(out, 'a.bin')), data)
  })

  it('DELETE /v1/contents/:cid removes content, then answers 404', async () => {
    await writeFile(join(work, 'b.bin'), randomBytes(10_000))
    const added = await request('POST', '/v1/contents', JSON.stringify({ path: join(work, 'b.bin') }))
    assert.equal(added.status, 201)
    const removed = await request('DELETE', `/v1/contents/${added.json.cid as string}`)
    assert.equal(removed.status, 200)
    assert.deepEqual(removed.json, { cid: added.json.cid, removed: true })
    assertError(await request('DELETE', `/v1/contents/${added.json.cid as string}`), 404, 'ERR_NOT_FOUND')
    assertError(await request('GET', `/v1/contents/${added.json.cid as string}`), 404, 'ERR_NOT_FOUND')
  })

  it('answers bad input with 4xx and a message', async () => {
    assertError(await request('POST', '/v1/contents', 'not json'), 400, 'ERR_BAD_REQUEST')
    assertError(await request('POST', '/v1/contents', '[1,2]'), 400, 'ERR_BAD_REQUEST')
    assertError(await request('POST', '/v1/contents', '{}'), 400, 'ERR_BAD_REQUEST')
    assertError(await request('POST', '/v1/contents', JSON.stringify({ path: 7 })), 400, 'ERR_BAD_REQUEST')
    assertError(await request('POST', '/v1/contents', JSON.stringify({ path: join(work, 'a.bin'), chunkSize: 'big' })), 400, 'ERR_BAD_REQUEST')
    assertError(await request('POST', '/v1/contents', JSON.stringify({ path: join(work, 'a.bin'), chunkSize: 1000 })), 400, 'ERR_BAD_CHUNK_SIZE')
    assertError(await request('POST', '/v1/contents', JSON.stringify({ path: join(work, 'missing.bin') })), 400, 'ERR_UNREADABLE')
    assertError(await request('POST', '/v1/contents', JSON.stringify({ path: 'x'.repeat(70_000) })), 400, 'ERR_BAD_REQUEST')
    assertError(await request('POST', '/v1/downloads', JSON.stringify({ cid: 'nope', out: work })), 400, 'ERR_BAD_CID')
    // no `out` is not an error any more: the download goes to the managed store (docs/cache.md)
    assertError(await request('POST', '/v1/downloads', JSON.stringify({ cid: UNKNOWN_CID, out: 5 })), 400, 'ERR_BAD_REQUEST')
    assertError(await request('DELETE', '/v1/contents/nope'), 400, 'ERR_BAD_CID')
    assertError(await request('GET', '/v1/nothing'), 404, 'ERR_NO_ROUTE')
    assertError(await request('PUT', '/v1/contents'), 404, 'ERR_NO_ROUTE')
  })

  it('serves Prometheus text with shoal_* metrics at /metrics', async () => {
    const r = await request('GET', '/metrics')
    assert.equal(r.status, 200)
    assert.match(r.type, /^text\/plain/)
    for (const name of ['shoal_peers', 'shoal_contents', 'shoal_upload_rate_bytes', 'shoal_download_rate_bytes', 'shoal_uptime_seconds', 'shoal_uploaded_bytes_total', 'shoal_downloaded_bytes_total']) {
      assert.match(r.text, new RegExp(`^# TYPE ${name} (gauge|counter)$`, 'm'), name)
      assert.match(r.text, new RegExp(`^${name} [\\d.e+]+$`, 'm'), name)
    }
    // the seeder served the receiver's download above
    const uploaded = Number(/^shoal_uploaded_bytes_total (\S+)$/m.exec(r.text)![1])
    assert.ok(uploaded >= 700_000, `uploaded ${uploaded}`)
  })

  it('enforces a token when one is set (health stays open for probes)', async () => {
    const guarded = new ControlServer({ address: '127.0.0.1:0', token: 's3cret' })
    const at = await serve(guarded, seeder)
    tokens.delete(at)
    assertError(await request('GET', '/v1/status', undefined, {}, at), 401, 'ERR_UNAUTHORIZED')
    assertError(await request('GET', '/v1/status', undefined, { authorization: 'Bearer wrong' }, at), 401, 'ERR_UNAUTHORIZED')
    assertError(await request('GET', '/metrics', undefined, {}, at), 401, 'ERR_UNAUTHORIZED')
    assertError(await request('POST', '/v1/contents', '{}', {}, at), 401, 'ERR_UNAUTHORIZED')
    assert.equal((await request('GET', '/v1/status', undefined, { authorization: 'Bearer s3cret' }, at)).status, 200)
    assert.equal((await request('GET', '/metrics', undefined, { authorization: 'Bearer s3cret' }, at)).status, 200)
    assert.equal((await request('GET', '/v1/health', undefined, {}, at)).status, 200)
    // the client sends the token
    const address = at.replace('http://', '')
    assert.equal((await new ControlClient({ address, token: 's3cret' }).status()).peerId, seeder.peerId)
    await assert.rejects(new ControlClient({ address, tokenFile: join(work, 'no-such.token') }).status(), (err: unknown) => isShoalError(err, 'ERR_UNAUTHORIZED'))
  })

  it('authenticates every request but health on loopback too, with the token it keeps in <dataDir>/api.token', async () => {
    const none = { authorization: '' }
    assertError(await request('GET', '/v1/status', undefined, none), 401, 'ERR_UNAUTHORIZED')
    assertError(await request('GET', '/v1/contents', undefined, none), 401, 'ERR_UNAUTHORIZED')
    assertError(await request('GET', '/metrics', undefined, none), 401, 'ERR_UNAUTHORIZED')
    assertError(await request('POST', '/v1/contents', JSON.stringify({ path: join(work, 'a.bin') }), none), 401, 'ERR_UNAUTHORIZED')
    assertError(await request('DELETE', `/v1/contents/${UNKNOWN_CID}`, undefined, none), 401, 'ERR_UNAUTHORIZED')
    // unknown routes too: nothing about the API is told to a caller without the token
    assertError(await request('GET', '/v1/nothing', undefined, none), 401, 'ERR_UNAUTHORIZED')
    assertError(await request('GET', '/v1/status', undefined, { authorization: 'Bearer x' }), 401, 'ERR_UNAUTHORIZED')
    assertError(await request('GET', '/v1/status', undefined, { authorization: `Basic ${server.token!}` }), 401, 'ERR_UNAUTHORIZED')
    assert.equal((await request('GET', '/v1/health', undefined, none)).status, 200)

    const file = join(work, 'seeder', 'api.token')
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    assert.equal((await readFile(file, 'utf8')).trim(), server.token)
    assert.ok(Buffer.from(server.token!, 'base64url').length >= 32)
    // the same OS user's client finds the token by itself
    const address = base.replace('http://', '')
    assert.equal((await new ControlClient({ address, dataDir: join(work, 'seeder') }).status()).peerId, seeder.peerId)
    // a restarted server reuses the file's token
    const again = new ControlServer({ address: '127.0.0.1:0', allowPaths: [work] })
    await serve(again, seeder)
    assert.equal(again.token, server.token)
  })

  it('refuses a foreign Host (DNS rebinding) on every route, token or not, and changes nothing', async () => {
    await writeFile(join(work, 'host.bin'), randomBytes(5000))
    const kept = await request('POST', '/v1/contents', JSON.stringify({ path: join(work, 'host.bin') }))
    assert.equal(kept.status, 201)
    const cid = kept.json.cid as string
    const before = (await request('GET', '/v1/contents')).json.contents
    const auth = { authorization: `Bearer ${server.token!}` }
    for (const host of ['evil.example', 'evil.example:80', `127.0.0.1.evil.example:${new URL(base).port}`, '']) {
      const h = { host, ...auth }
      assertError(await rawRequest(base, 'GET', '/v1/status', h), 403, 'ERR_FORBIDDEN_HOST')
      assertError(await rawRequest(base, 'GET', '/v1/contents', h), 403, 'ERR_FORBIDDEN_HOST')
      assertError(await rawRequest(base, 'GET', `/v1/contents/${cid}`, h), 403, 'ERR_FORBIDDEN_HOST')
      assertError(await rawRequest(base, 'DELETE', `/v1/contents/${cid}`, h), 403, 'ERR_FORBIDDEN_HOST')
      await writeFile(join(work, 'host2.bin'), randomBytes(3000))
      assertError(await rawRequest(base, 'POST', '/v1/contents', { ...h, 'content-type': 'application/json' }, JSON.stringify({ path: join(work, 'host2.bin') })), 403, 'ERR_FORBIDDEN_HOST')
    }
    assert.deepEqual((await request('GET', '/v1/contents')).json.contents.map((c: { cid: string }) => c.cid), before.map((c: { cid: string }) => c.cid))
    // loopback names, with or without the port, are this machine
    const port = new URL(base).port
    for (const host of ['localhost', `localhost:${port}`, '127.0.0.1', `127.0.0.1:${port}`, '127.1.2.3', '[::1]', `[::1]:${port}`]) {
      assert.equal((await rawRequest(base, 'GET', '/v1/status', { host, ...auth })).status, 200, host)
    }
    // a name the operator lists is accepted
    const listed = new ControlServer({ address: '127.0.0.1:0', allowPaths: [work], allowHosts: ['shoal.internal'] })
    const at = await serve(listed, seeder)
    assert.equal((await rawRequest(at, 'GET', '/v1/status', { host: `shoal.internal:${new URL(at).port}`, ...auth })).status, 200)
    assertError(await rawRequest(at, 'GET', '/v1/status', { host: 'other.internal', ...auth }), 403, 'ERR_FORBIDDEN_HOST')
  })

  it('refuses requests from a foreign Origin or a cross-site Fetch-Metadata, with no CORS headers', async () => {
    const auth = { authorization: `Bearer ${server.token!}` }
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${new URL(base).port}`]) {
      const r = await rawRequest(base, 'GET', '/v1/status', { origin, ...auth })
      assertError(r, 403, 'ERR_FORBIDDEN_ORIGIN')
      assert.deepEqual(corsHeaders(r.headers), [])
    }
    assertError(await rawRequest(base, 'GET', '/v1/status', { 'sec-fetch-site': 'cross-site', ...auth }), 403, 'ERR_FORBIDDEN_ORIGIN')
    assertError(await rawRequest(base, 'GET', '/v1/status', { 'sec-fetch-site': 'same-site', ...auth }), 403, 'ERR_FORBIDDEN_ORIGIN')
    assert.equal((await rawRequest(base, 'GET', '/v1/status', { 'sec-fetch-site': 'none', ...auth })).status, 200)
  })

  it('answers a body that is not application/json with 415', async () => {
    await writeFile(join(work, 'ct.bin'), randomBytes(2000))
    const body = JSON.stringify({ path: join(work, 'ct.bin') })
    const auth = { authorization: `Bearer ${server.token!}` }
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx']) {
      assertError(await rawRequest(base, 'POST', '/v1/contents', { 'content-type': type, ...auth }, body), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE')
    }
    assertError(await rawRequest(base, 'POST', '/v1/contents', { ...auth }, body), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE')
    assertError(await rawRequest(base, 'POST', '/v1/downloads', { 'content-type': 'text/plain', ...auth }, JSON.stringify({ cid: UNKNOWN_CID, out: join(work, 'x') })), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE')
    assert.equal((await rawRequest(base, 'POST', '/v1/contents', { 'content-type': 'Application/JSON; charset=utf-8', ...auth }, body)).status, 201)
  })

  it('adds and downloads only under the allowed roots, judged on real paths', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'shoal-api-outside-'))
    try {
      await writeFile(join(outside, 'secret.bin'), randomBytes(1000))
      await symlink(join(outside, 'secret.bin'), join(work, 'link-to-secret'))
      await symlink(outside, join(work, 'link-to-outside'))
      const refused = async (route: string, body: Record<string, unknown>): Promise<void> => {
        const r = await request('POST', route, JSON.stringify(body))
        assertError(r, 403, 'ERR_PATH_NOT_ALLOWED')
        assert.match(r.json.error.message, /SHOAL_ALLOW_PATHS/)
        assert.match(r.json.error.message, /--allow-paths/)
      }
      await refused('/v1/contents', { path: join(outside, 'secret.bin') })
      await refused('/v1/contents', { path: join(work, 'link-to-secret') })
      await refused('/v1/contents', { path: join(work, 'link-to-outside', 'secret.bin') })
      await refused('/v1/contents', { path: `${work}/../${outside.split('/').pop()!}/secret.bin` })
      await refused('/v1/downloads', { cid: UNKNOWN_CID, out: outside })
      await refused('/v1/downloads', { cid: UNKNOWN_CID, out: join(work, 'link-to-outside', 'new', 'deeper') })
      await refused('/v1/downloads', { cid: UNKNOWN_CID, out: `${work}/not-yet/../../${outside.split('/').pop()!}` })
      assert.equal((await request('GET', '/v1/contents')).json.contents.some((c: { path: string }) => c.path.startsWith(outside)), false)
      // inside the root a real file is fine, and the node is handed its real path
      await mkdir(join(work, 'real'), { recursive: true })
      await writeFile(join(work, 'real', 'ok.bin'), randomBytes(1000))
      await symlink(join(work, 'real'), join(work, 'link-inside'))
      const ok = await request('POST', '/v1/contents', JSON.stringify({ path: join(work, 'link-inside', 'ok.bin') }))
      assert.equal(ok.status, 201, ok.text)
      assert.equal(ok.json.path, join(work, 'real', 'ok.bin'))
      // "/" allows anywhere
      const open = new ControlServer({ address: '127.0.0.1:0', allowPaths: ['/'] })
      const at = await serve(open, seeder)
      assert.equal((await request('POST', '/v1/contents', JSON.stringify({ path: join(outside, 'secret.bin') }), {}, at)).status, 201)
    } finally {
      await rm(outside, { recursive: true, force: true })
    }
  })

  it('answers CORS preflights only for configured origins', async () => {
    const preflight = { origin: 'http://app.example:8080', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' }
    // none configured: refused, and no CORS header at all
    const off = await rawRequest(base, 'OPTIONS', '/v1/contents', preflight)
    assertError(off, 403, 'ERR_FORBIDDEN_ORIGIN')
    assert.deepEqual(corsHeaders(off.headers), [])
    assert.deepEqual(corsHeaders((await rawRequest(base, 'GET', '/v1/health', {})).headers), [])

    const cors = new ControlServer({ address: '127.0.0.1:0', allowPaths: [work], allowOrigins: ['http://app.example:8080'] })
    const at = await serve(cors, seeder)
    const on = await rawRequest(at, 'OPTIONS', '/v1/contents', preflight)
    assert.equal(on.status, 204)
    assert.equal(on.headers['access-control-allow-origin'], 'http://app.example:8080')
    assert.match(String(on.headers['access-control-allow-methods']), /POST/)
    assert.match(String(on.headers['access-control-allow-methods']), /DELETE/)
    assert.match(String(on.headers['access-control-allow-headers']), /Authorization/i)
    assert.match(String(on.headers['access-control-allow-headers']), /Content-Type/i)
    const read = await rawRequest(at, 'GET', '/v1/status', { origin: 'http://app.example:8080', authorization: `Bearer ${cors.token!}` })
    assert.equal(read.status, 200)
    assert.equal(read.headers['access-control-allow-origin'], 'http://app.example:8080')
    assertError(await rawRequest(at, 'OPTIONS', '/v1/contents', { ...preflight, origin: 'http://evil.example' }), 403, 'ERR_FORBIDDEN_ORIGIN')
    // the configured origin still needs the token
    assertError(await rawRequest(at, 'GET', '/v1/status', { origin: 'http://app.example:8080' }), 401, 'ERR_UNAUTHORIZED')
  })

  it('sends nosniff and no-store on its answers', async () => {
    for (const r of [await request('GET', '/v1/status'), await request('GET', '/v1/nothing'), await request('GET', '/v1/health', undefined, { authorization: '' })]) {
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff')
      assert.equal(r.headers.get('cache-control'), 'no-store')
    }
  })

  it('answers bad %-encoding in a path with 400, not 500', async () => {
    assertError(await request('GET', '/v1/contents/%E0%A4%A'), 400, 'ERR_BAD_REQUEST')
    assertError(await request('DELETE', '/v1/contents/%E0%A4%A'), 400, 'ERR_BAD_REQUEST')
    assertError(await request('GET', '/v1/contents/%'), 400, 'ERR_BAD_REQUEST')
  })

  it('closes idle connections after idleTimeoutMs and caps concurrent connections', async () => {
    const brief = new ControlServer({ address: '127.0.0.1:0', allowPaths: [work], idleTimeoutMs: 300, maxConnections: 4 })
    const at = await serve(brief, seeder)
    const port = Number(new URL(at).port)
    const sockets = Array.from({ length: 8 }, () => connect(port, '127.0.0.1'))
    try {
      const closed = await Promise.all(sockets.map(async s => await new Promise<boolean>(resolve => {
        const timer = setTimeout(() => { resolve(false) }, 10_000)
        s.on('error', () => {})
        s.on('close', () => { clearTimeout(timer); resolve(true) })
      })))
      assert.deepEqual(closed, sockets.map(() => true), 'the server closed every idle socket')
    } finally {
      for (const s of sockets) s.destroy()
    }
    assert.equal((await request('GET', '/v1/status', undefined, {}, at)).status, 200)
  })

  it('refuses a name that resolves to a non-loopback address without a token, and binds the resolved address', async () => {
    // an injected resolver plays `127.attacker.example` -> a LAN address (offline, no DNS needed)
    const lan = new ControlServer({ address: '127.attacker.example:0', lookup: async () => [{ address: '192.0.2.7', family: 4 }] })
    await assert.rejects(lan.start(seeder), (err: unknown) => isShoalError(err, 'ERR_BAD_CONFIG') && /SHOAL_API_TOKEN/.test(err.message) && /192\.0\.2\.7/.test(err.message))
    const mixed = new ControlServer({ address: 'both.example:0', lookup: async () => [{ address: '127.0.0.1', family: 4 }, { address: '10.1.2.3', family: 4 }] })
    await assert.rejects(mixed.start(seeder), (err: unknown) => isShoalError(err, 'ERR_BAD_CONFIG'))
    // a name resolving to loopback binds that address, not the name
    const local = new ControlServer({ address: 'my-loopback.example:0', allowPaths: [work], lookup: async () => [{ address: '127.0.0.1', family: 4 }] })
    const at = await serve(local, seeder)
    assert.match(at, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal((await rawRequest(at, 'GET', '/v1/status', { host: 'my-loopback.example', authorization: `Bearer ${local.token!}` })).status, 200)
  })

  it('refuses a non-loopback address without a token, and accepts it with one', async () => {
    assert.throws(() => new ControlServer({ address: '0.0.0.0:0' }), (err: unknown) => isShoalError(err, 'ERR_BAD_CONFIG') && /SHOAL_API_TOKEN/.test(err.message))
    assert.throws(() => new ControlServer({ address: '192.168.1.5:7070', token: '' }), (err: unknown) => isShoalError(err, 'ERR_BAD_CONFIG'))
    const open = new ControlServer({ address: '0.0.0.0:0', token: 't' })
    const url = await serve(open, seeder)
    tokens.delete(url)
    const port = new URL(url).port
    assertError(await request('GET', '/v1/status', undefined, {}, `http://127.0.0.1:${port}`), 401, 'ERR_UNAUTHORIZED')
    assert.equal((await request('GET', '/v1/status', undefined, { authorization: 'Bearer t' }, `http://127.0.0.1:${port}`)).status, 200)
  })

  it('reports a port in use as ERR_PORT_IN_USE', async () => {
    const blocker = createServer()
    await new Promise<void>(resolve => { blocker.listen(0, '127.0.0.1', () => { resolve() }) })
    try {
      const port = (blocker.address() as { port: number }).port
      const clash = new ControlServer({ address: `127.0.0.1:${port}`, token: 't' })
      await assert.rejects(clash.start(seeder), (err: unknown) => isShoalError(err, 'ERR_PORT_IN_USE'))
    } finally {
      blocker.close()
    }
  })
})
