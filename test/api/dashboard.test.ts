// The "done when": a real swarm (a seeder and 3 receivers), the dashboard of one receiver
// open in headless Chromium (DevTools protocol): the content, its chunk map and the peers appear and
// update from the DOM while the download runs, and a screenshot is saved. The same test shows that
// the dashboard refuses a browser without the cookie, a second use of a link, and a request made by
// a page of another origin (even though that browser holds the cookie).
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { ControlServer } from '../../src/api/control-server.js'
import type { ShoalNode } from '../../src/node/shoal-node.js'
import { CHUNK, Harness, randomFile, sha256File, within } from '../node/helpers.js'
import { Chromium, ensureChromium, type CdpPage } from './chromium.js'

const TOKEN = 'dashboard-test-token-0123456789abcdef'
const POLL_MS = 200
const MAX_POLLS = 300

interface DomView {
  live: string
  row: string | null
  cells: number
  held: number
  inflight: number
  peers: number
}

async function link (base: string): Promise<string> {
  const res = await fetch(`${base}/v1/dashboard/links`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' })
  assert.equal(res.status, 201)
  return base + (await res.json() as { path: string }).path
}

async function view (page: CdpPage, cid: string): Promise<DomView> {
  return await page.evaluate<DomView>(`(() => {
    const map = document.querySelector('.chunkmap[data-cid="${cid}"]')
    const row = document.querySelector('#contents tr[data-cid="${cid}"]')
    return {
      live: document.getElementById('live')?.textContent ?? '',
      row: row === null ? null : row.dataset.state,
      cells: map === null ? 0 : map.children.length,
      held: map === null ? 0 : Number(map.dataset.held),
      inflight: map === null ? 0 : Number(map.dataset.inflight),
      peers: document.querySelectorAll('#peers tbody tr').length
    }
  })()`)
}

describe('the dashboard in headless Chromium during a swarm download', { timeout: 180_000 }, () => {
  const h = new Harness()
  let chromiumMissing: string | undefined
  let browser: Chromium | undefined
  let server: ControlServer
  let base: string
  let observed: ShoalNode
  let attacker: Server | undefined

  before(async () => {
    chromiumMissing = ensureChromium()
    await h.startBootstrap()
    observed = await h.node()
    server = new ControlServer({ address: '127.0.0.1:0', token: TOKEN, allowPaths: h.dirs })
    base = await server.start(observed)
  })
  after(async () => {
    await browser?.close()
    await new Promise<void>(resolve => { if (attacker === undefined) resolve(); else attacker.close(() => { resolve() }) })
    await server?.stop()
    await h.cleanup()
  })

  it('shows the content, its chunk map and the peers, updating live; refuses strangers', async (t) => {
    if (chromiumMissing !== undefined) { t.skip(chromiumMissing); return }
    const size = 4 * 1024 * 1024
    const chunks = size / CHUNK
    const source = join(await h.tempDir(), 'payload.bin')
    await randomFile(source, size)
    const hash = await sha256File(source)
    // a capped seeder, so the download lasts long enough to watch and receivers trade
    const seeder = await h.node({ uploadLimit: 512 * 1024 })
    const cid = (await seeder.add(source)).cid
    const others = [await h.node(), await h.node()]

    browser = await Chromium.launch(await h.tempDir())
    const page = await browser.newPage()
    const url = await link(base)
    await page.navigate(url)
    assert.equal(await page.evaluate<string>('location.pathname + location.search'), '/dashboard', 'the link redirects to a URL without its secret')
    for (let i = 0; i < MAX_POLLS && (await view(page, cid)).live !== 'live'; i++) await sleep(POLL_MS)
    assert.equal((await view(page, cid)).live, 'live', 'the event stream is open')

    const downloads = [observed, ...others].map(async n => await n.get(cid, { out: await h.tempDir() }))
    const seen: DomView[] = []
    const artefacts = await mkdtemp(join(tmpdir(), 'shoal-dashboard-artefact-'))
    const shot = join(artefacts, 'dashboard.png')
    let shotTaken = false
    let done = false
    const all = Promise.all(downloads).finally(() => { done = true })
    for (let i = 0; i < MAX_POLLS && !done; i++) {
      const now = await view(page, cid)
      seen.push(now)
      // the artefact shows the download under way: part held, part in flight or missing
      if (!shotTaken && now.held >= chunks / 3 && now.held < chunks) {
        await page.screenshot(shot)
        shotTaken = true
      }
      await sleep(POLL_MS)
    }
    const results = await within('the downloads', 60_000, all)
    for (const r of results) assert.equal(await sha256File(r.path), hash)
    let final = await view(page, cid)
    for (let i = 0; i < MAX_POLLS && final.held < chunks; i++) { await sleep(POLL_MS); final = await view(page, cid) }

    const during = seen.filter(v => v.row !== null)
    const partial = new Set(during.filter(v => v.held > 0 && v.held < chunks).map(v => v.held))
    console.log(`# ${seen.length} DOM reads while downloading; held counts seen: ${[...new Set(seen.map(v => v.held))].join(', ')}; in flight seen: ${Math.max(0, ...seen.map(v => v.inflight))} max`)
    assert.ok(during.length > 0, 'the content appeared while it downloaded')
    assert.ok(during.every(v => v.cells === chunks), `the chunk map has one cell per chunk (${chunks})`)
    assert.ok(partial.size >= 2, `the chunk map updated without a reload while the download ran (partial held counts: ${[...partial].join(', ')})`)
    assert.ok(during.some(v => v.peers > 0), 'peers appeared while the download ran')
    assert.equal(final.held, chunks, 'the chunk map ends complete')
    assert.ok(final.peers > 0)
    assert.equal(await page.evaluate<number>('performance.getEntriesByType("navigation").length'), 1, 'no reload happened')

    if (!shotTaken) await page.screenshot(shot)
    console.log(`# dashboard screenshot: ${shot}`)

    // the link was spent: a second browser opening it is refused, and so is the page without a cookie
    const stranger = await browser.newPage(true)
    await stranger.navigate(url)
    assert.match(await stranger.evaluate<string>('document.body.textContent'), /ERR_UNAUTHORIZED/)
    await stranger.navigate(`${base}/dashboard`)
    assert.match(await stranger.evaluate<string>('document.body.textContent'), /ERR_UNAUTHORIZED/)
    assert.ok(stranger.responses.some(r => r.url === `${base}/dashboard` && r.status === 401))
    stranger.close()

    // a page of another origin, in the browser that holds the cookie: the daemon refuses its requests
    attacker = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end(`<!doctype html><pre id="out">pending</pre><script>
        const api = ${JSON.stringify(base)};
        const out = {};
        (async () => {
          try { out.state = await (await fetch(api + '/v1/dashboard/state', { credentials: 'include' })).text() } catch (e) { out.state = 'threw ' + e.name }
          try { out.noCors = (await fetch(api + '/v1/dashboard/state', { credentials: 'include', mode: 'no-cors' })).type } catch (e) { out.noCors = 'threw ' + e.name }
          out.events = await new Promise(resolve => { const es = new EventSource(api + '/v1/events', { withCredentials: true }); es.onopen = () => resolve('open'); es.onerror = () => { es.close(); resolve('error') } });
          document.getElementById('out').textContent = JSON.stringify(out);
        })();
      </script>`)
    })
    await new Promise<void>(resolve => { attacker!.listen(0, '127.0.0.1', () => { resolve() }) })
    const attackerUrl = `http://127.0.0.1:${(attacker.address() as { port: number }).port}/`
    const cookieHolder = await browser.newPage()
    await cookieHolder.navigate(`${base}/dashboard`)
    assert.equal(await cookieHolder.evaluate<string>('document.title'), 'shoal dashboard', 'this browser is signed in')
    const attack = await cookieHolder.navigate(attackerUrl)
    let answer = 'pending'
    for (let i = 0; i < MAX_POLLS && answer === 'pending'; i++) { await sleep(POLL_MS); answer = await cookieHolder.evaluate<string>('document.getElementById("out").textContent') }
    console.log(`# the other origin's page saw: ${answer}`)
    const seenByPage = JSON.parse(answer) as Record<string, string>
    assert.match(seenByPage.state!, /^threw/)
    assert.equal(seenByPage.events, 'error')
    assert.ok(!answer.includes(cid), 'the page read nothing of the node')
    // the attacker page's own requests (its loader), not the dashboard's closing event stream
    const refused = cookieHolder.responses.filter(r => r.loaderId === attack && r.url.startsWith(base))
    assert.ok(refused.length > 0 && refused.every(r => r.status === 403), `the daemon answered the other origin 403: ${JSON.stringify(refused)}`)
    cookieHolder.close()
    page.close()
  })
})
