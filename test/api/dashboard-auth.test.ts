// Who may read the dashboard and the event stream, over plain HTTP: the one-time link, the cookie it
// becomes (GET dashboard routes only), the Origin guard, and the bound on open event streams.
import assert from 'node:assert/strict'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ControlServer } from '../../src/api/control-server.js'
import { DashboardSessions } from '../../src/api/dashboard-sessions.js'
import type { ShoalNode } from '../../src/node/shoal-node.js'
import { Harness, randomFile, within } from '../node/helpers.js'

const TOKEN = 'dashboard-auth-token-0123456789abcdef'

interface Answer { status: number, headers: IncomingMessage['headers'], body: string }

/** One request with exactly these headers (fetch would add its own Origin/Sec-Fetch-* rules). */
async function call (base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const req = httpRequest(base + path, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }) } }, res => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => { text += d })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }) })
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Opens an event stream and collects its events until `close()` is called. */
function stream (base: string, headers: Record<string, string>): { status: Promise<number>, events: Array<{ event: string, data: unknown }>, close: () => void } {
  const events: Array<{ event: string, data: unknown }> = []
  let res: IncomingMessage | undefined
  const req = httpRequest(`${base}/v1/events`, { headers })
  const status = new Promise<number>((resolve, reject) => {
    req.on('response', r => {
      res = r
      resolve(r.statusCode ?? 0)
      let buffered = ''
      r.setEncoding('utf8').on('data', (d: string) => {
        buffered += d
        let end: number
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end)
          buffered = buffered.slice(end + 2)
          const name = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (name !== undefined && data !== undefined) events.push({ event: name, data: JSON.parse(data) })
        }
      })
      r.on('error', () => {})
    })
    req.on('error', reject)
  })
  req.end()
  return { status, events, close: () => { res?.destroy(); req.destroy() } }
}

describe('dashboard and event stream access', { timeout: 60_000 }, () => {
  const h = new Harness()
  let node: ShoalNode
  let server: ControlServer
  let base: string
  let host: string

  before(async () => {
    await h.startBootstrap()
    node = await h.node()
    server = new ControlServer({ address: '127.0.0.1:0', token: TOKEN, allowPaths: h.dirs, maxEventStreams: 2 })
    base = await server.start(node)
    host = new URL(base).host
  })
  after(async () => {
    await server?.stop()
    await h.cleanup()
  })

  it('a link works once and becomes an HttpOnly SameSite=Strict cookie that opens the GET dashboard routes only', async () => {
    assert.equal((await call(base, 'POST', '/v1/dashboard/links', {}, '{}')).status, 401, 'a link needs the token')
    const made = await call(base, 'POST', '/v1/dashboard/links', { authorization: `Bearer ${TOKEN}` }, '{}')
    assert.equal(made.status, 201)
    const { path } = JSON.parse(made.body) as { path: string }
    assert.match(path, /^\/dashboard\/login\?token=[A-Za-z0-9_-]{43}$/)

    const login = await call(base, 'GET', path)
    assert.equal(login.status, 303)
    assert.equal(login.headers.location, '/dashboard')
    const setCookie = String(login.headers['set-cookie'])
    assert.match(setCookie, /HttpOnly/)
    assert.match(setCookie, /SameSite=Strict/)
    const cookie = setCookie.split(';')[0]!
    assert.equal((await call(base, 'GET', path)).status, 401, 'the link is spent')
    assert.equal((await call(base, 'GET', '/dashboard/login?token=forged')).status, 401)

    assert.equal((await call(base, 'GET', '/dashboard')).status, 401, 'no cookie, no page')
    assert.equal((await call(base, 'GET', '/dashboard', { cookie: 'shoal_dashboard=guessed' })).status, 401)
    const page = await call(base, 'GET', '/dashboard', { cookie })
    assert.equal(page.status, 200)
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/)
    assert.equal((await call(base, 'GET', '/dashboard/app.js', { cookie })).status, 200)
    const state = await call(base, 'GET', '/v1/dashboard/state', { cookie })
    assert.equal(state.status, 200)
    assert.ok((JSON.parse(state.body) as { status: { peerId: string } }).status.peerId !== '')
    // the same cookie on anything else: refused as if absent
    for (const [method, route, body] of [['GET', '/v1/status'], ['GET', '/metrics'], ['GET', '/v1/contents'], ['POST', '/v1/dashboard/links', '{}'], ['POST', '/v1/contents', '{"path":"/"}']] as const) {
      assert.equal((await call(base, method, route, { cookie }, body)).status, 401, `${method} ${route} with only the cookie`)
    }
    // a page of another origin (same site: SameSite does not help between ports) with the cookie
    const foreign = { cookie, origin: 'http://127.0.0.1:1', 'sec-fetch-site': 'same-site' }
    assert.equal((await call(base, 'GET', '/v1/dashboard/state', foreign)).status, 403)
    assert.equal((await call(base, 'GET', '/v1/events', foreign)).status, 403)
    // the dashboard's own origin, as its module script and EventSource send it
    assert.equal((await call(base, 'GET', '/dashboard/app.js', { cookie, origin: `http://${host}`, 'sec-fetch-site': 'same-origin' })).status, 200)
    // ...on the dashboard's routes only: elsewhere the daemon's own origin is refused as before
    assert.equal((await call(base, 'GET', '/v1/status', { authorization: `Bearer ${TOKEN}`, origin: `http://${host}` })).status, 403)
    // a rebinding page names its own host: refused whatever its origin says
    assert.equal((await call(base, 'GET', '/dashboard', { cookie, host: 'evil.example:80', origin: 'http://evil.example:80' })).status, 403)
  })

  it('links expire unused; a session outlives no longer than its TTL', () => {
    let now = 1_000_000
    const sessions = new DashboardSessions({ linkTtlMs: 60_000, sessionTtlMs: 3_600_000, now: () => now })
    const late = sessions.issueLink()
    now += 60_001
    assert.equal(sessions.redeem(late.secret), undefined, 'an expired link is refused')
    const session = sessions.redeem(sessions.issueLink().secret)
    assert.ok(session !== undefined)
    assert.ok(sessions.valid(`a=b; shoal_dashboard=${session}`))
    now += 3_600_001
    assert.ok(!sessions.valid(`shoal_dashboard=${session}`), 'an expired session is refused')
  })

  it('GET /v1/events streams a download\'s typed events, and at most maxEventStreams are open', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` }
    assert.equal(await stream(base, {}).status, 401)
    const first = stream(base, auth)
    const second = stream(base, auth)
    assert.equal(await first.status, 200)
    assert.equal(await second.status, 200)
    const third = await call(base, 'GET', '/v1/events', auth)
    assert.equal(third.status, 503)
    assert.equal((JSON.parse(third.body) as { error: { code: string } }).error.code, 'ERR_TOO_MANY_STREAMS')
    second.close()

    const seeder = await h.node()
    const source = join(await h.tempDir(), 'events.bin')
    await randomFile(source, 512 * 1024)
    const cid = (await seeder.add(source)).cid
    await within('the download', 30_000, node.get(cid, { out: await h.tempDir() }))
    const deadline = Date.now() + 10_000
    while (!first.events.some(e => e.event === 'done') && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    const names = new Set(first.events.map(e => e.event))
    console.log(`# events streamed: ${[...names].join(', ')} (${first.events.length} in all)`)
    assert.ok(names.has('progress') && names.has('done'), `progress and done were streamed: ${[...names].join(', ')}`)
    const done = first.events.find(e => e.event === 'done')!.data as { cid: string, received: { origin: number } }
    assert.equal(done.cid, cid)
    assert.equal(done.received.origin, 512 * 1024)
    // the slot freed by the closed stream is usable again
    const again = stream(base, auth)
    assert.equal(await again.status, 200)
    again.close()
    first.close()
  })
})
