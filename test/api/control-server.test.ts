// The daemon's HTTP control API, served by real nodes on loopback and called over real HTTP.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ControlClient, ControlServer, createShoal, isShoalError, type Shoal } from '../../src/index.js'
import { isLoopbackHost, parseAddress } from '../../src/api/parse-address.js'

// response bodies are arbitrary JSON; the assertions check their shape
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

const UNKNOWN_CID = 'bafyreigvdpre2rqmnwd3eodt5rvk3clr2ykcu6x4lwejjiix35cczyxafa'

describe('ControlServer', { timeout: 120_000 }, () => {
  let work: string
  let seeder: Shoal
  let receiver: Shoal
  let server: ControlServer
  let base: string
  const servers: ControlServer[] = []
  const request = async (method: string, path: string, body?: string, headers: Record<string, string> = {}, at = base): Promise<{ status: number, json: Json, text: string, type: string }> => {
    const res = await fetch(at + path, { method, body, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers } })
    const text = await res.text()
    let json: unknown
    try { json = JSON.parse(text) } catch { json = undefined }
    return { status: res.status, json, text, type: res.headers.get('content-type') ?? '' }
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
    server = new ControlServer({ address: '127.0.0.1:0' })
    servers.push(server)
    base = await server.start(seeder)
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
    const receiverServer = new ControlServer({ address: '127.0.0.1:0' })
    servers.push(receiverServer)
    const receiverBase = await receiverServer.start(receiver)
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
    assertError(await request('POST', '/v1/downloads', JSON.stringify({ cid: UNKNOWN_CID })), 400, 'ERR_BAD_REQUEST')
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
    servers.push(guarded)
    const at = await guarded.start(seeder)
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
    await assert.rejects(new ControlClient({ address }).status(), (err: unknown) => isShoalError(err, 'ERR_UNAUTHORIZED'))
  })

  it('refuses a non-loopback address without a token, and accepts it with one', async () => {
    assert.throws(() => new ControlServer({ address: '0.0.0.0:0' }), (err: unknown) => isShoalError(err, 'ERR_BAD_CONFIG') && /SHOAL_API_TOKEN/.test(err.message))
    assert.throws(() => new ControlServer({ address: '192.168.1.5:7070', token: '' }), (err: unknown) => isShoalError(err, 'ERR_BAD_CONFIG'))
    const open = new ControlServer({ address: '0.0.0.0:0', token: 't' })
    servers.push(open)
    const url = await open.start(seeder)
    const port = new URL(url).port
    assertError(await request('GET', '/v1/status', undefined, {}, `http://127.0.0.1:${port}`), 401, 'ERR_UNAUTHORIZED')
    assert.equal((await request('GET', '/v1/status', undefined, { authorization: 'Bearer t' }, `http://127.0.0.1:${port}`)).status, 200)
  })

  it('reports a port in use as ERR_PORT_IN_USE', async () => {
    const blocker = createServer()
    await new Promise<void>(resolve => { blocker.listen(0, '127.0.0.1', () => { resolve() }) })
    try {
      const port = (blocker.address() as { port: number }).port
      const clash = new ControlServer({ address: `127.0.0.1:${port}` })
      await assert.rejects(clash.start(seeder), (err: unknown) => isShoalError(err, 'ERR_PORT_IN_USE'))
    } finally {
      blocker.close()
    }
  })
})

describe('parseAddress', () => {
  it('reads host:port, [v6]:port and a bare port', () => {
    assert.deepEqual(parseAddress('127.0.0.1:7070'), { host: '127.0.0.1', port: 7070 })
    assert.deepEqual(parseAddress('[::1]:80'), { host: '::1', port: 80 })
    assert.deepEqual(parseAddress('7070'), { host: '127.0.0.1', port: 7070 })
    assert.deepEqual(parseAddress('localhost:1'), { host: 'localhost', port: 1 })
    for (const bad of ['', 'host', 'host:', ':80', '1.2.3.4:99999', 'a b:1']) {
      assert.throws(() => parseAddress(bad), (err: unknown) => isShoalError(err, 'ERR_BAD_CONFIG'), bad)
    }
  })

  it('knows loopback hosts', () => {
    assert.ok(isLoopbackHost('127.0.0.1'))
    assert.ok(isLoopbackHost('::1'))
    assert.ok(isLoopbackHost('localhost'))
    assert.ok(!isLoopbackHost('0.0.0.0'))
    assert.ok(!isLoopbackHost('::'))
    assert.ok(!isLoopbackHost('10.0.0.1'))
  })
})
