// The "done when": a web page from another origin, in real headless Chromium, attacks a real
// `shoal daemon` on loopback (no-cors POSTs, form posts, a DELETE, reads). The daemon runs with its
// defaults (HOME is a temp dir: data dir ~/.shoal, allowed paths = home + data dir), so only the
// browser defences stand between the page and a file it names inside the allowed root.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ControlClient } from '../../src/index.js'
import { killAllShoals, runProgram, runShoal, spawnShoal, type ShoalProcess } from '../cli/helpers.js'
import { chromiumFlags, ensureChromium } from './chromium.js'

const LOOPBACK = '/ip4/127.0.0.1/tcp/0'

function attackerPage (api: string, secret: string, out: string, cid: string): string {
  const js = `
  const api = ${JSON.stringify(api)}, secret = ${JSON.stringify(secret)}, out = ${JSON.stringify(out)}, cid = ${JSON.stringify(cid)};
  const results = {};
  const attempt = async (name, fn) => { try { results[name] = await fn() } catch (e) { results[name] = 'threw ' + e.name } };
  const post = (path, body, extra = {}) => fetch(api + path, { method: 'POST', mode: 'no-cors', body, ...extra }).then(r => r.type + ':' + r.status);
  const submit = (action, enctype, name, value) => new Promise(resolve => {
    const frame = document.createElement('iframe'); frame.name = 'f' + Math.random(); document.body.appendChild(frame);
    const form = document.createElement('form'); form.method = 'POST'; form.action = api + action; form.enctype = enctype; form.target = frame.name;
    const input = document.createElement('input'); input.name = name; input.value = value; form.appendChild(input);
    document.body.appendChild(form);
    const timer = setTimeout(() => resolve('no load'), 4000);
    frame.onload = () => { clearTimeout(timer); try { resolve('read ' + frame.contentDocument.body.textContent) } catch (e) { resolve('unreadable') } };
    form.submit();
  });
  (async () => {
    await attempt('add', () => post('/v1/contents', JSON.stringify({ path: secret })));
    await attempt('addTextPlain', () => post('/v1/contents', JSON.stringify({ path: secret }), { headers: { 'content-type': 'text/plain' } }));
    await attempt('download', () => post('/v1/downloads', JSON.stringify({ cid, out })));
    await attempt('delete', () => fetch(api + '/v1/contents/' + cid, { method: 'DELETE' }).then(r => r.status));
    await attempt('deleteNoCors', () => fetch(api + '/v1/contents/' + cid, { method: 'DELETE', mode: 'no-cors' }).then(r => r.type));
    await attempt('jsonCors', () => fetch(api + '/v1/contents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: secret }) }).then(r => r.status));
    await attempt('formTextPlain', () => submit('/v1/contents', 'text/plain', '{"path":' + JSON.stringify(secret) + ',"pad":"', '"}'));
    await attempt('formUrlencoded', () => submit('/v1/downloads', 'application/x-www-form-urlencoded', 'cid', cid));
    await attempt('readStatus', () => fetch(api + '/v1/status').then(r => r.text()));
    await attempt('readContents', () => fetch(api + '/v1/contents', { credentials: 'include' }).then(r => r.text()));
    await attempt('img', () => new Promise(resolve => { const i = new Image(); i.onload = () => resolve('loaded'); i.onerror = () => resolve('error'); i.src = api + '/v1/status' }));
    await attempt('readData', () => fetch(api + '/v1/data/' + cid).then(r => r.text()));
    await attempt('readDataRange', () => fetch(api + '/v1/data/' + cid, { headers: { range: 'bytes=0-99' } }).then(r => r.text()));
    await attempt('imgData', () => new Promise(resolve => { const i = new Image(); i.onload = () => resolve('loaded'); i.onerror = () => resolve('error'); i.src = api + '/v1/data/' + cid }));
    document.getElementById('out').textContent = 'RESULTS ' + JSON.stringify(results) + ' END';
  })();`
  return `<!doctype html><html><head><title>attacker</title></head><body><pre id="out">pending</pre><script>${js}</script></body></html>`
}

describe('a web page in headless Chromium against a shoal daemon', { timeout: 240_000 }, () => {
  let work: string
  let home: string
  let daemon: ShoalProcess
  let api: string
  let page: Server
  let chromiumMissing: string | undefined

  before(async () => {
    chromiumMissing = ensureChromium()
    work = await mkdtemp(join(tmpdir(), 'shoal-browser-'))
    home = join(work, 'home')
    daemon = spawnShoal(['daemon', '--api', '127.0.0.1:0', '--json', '--listen', LOOPBACK], { env: { HOME: home, DEBUG: 'shoal:api' } })
    const ready = await daemon.waitForLine(l => l.type === 'result')
    api = (ready.api as string).replace(/^http:\/\//, '')
  })

  after(async () => {
    await new Promise<void>(resolve => { if (page === undefined) resolve(); else page.close(() => { resolve() }) })
    await killAllShoals()
    await rm(work, { recursive: true, force: true })
  })

  it('adds, downloads, cancels and reads nothing; the CLI and ControlClient still work with no extra flags', async (t) => {
    if (chromiumMissing !== undefined) { t.skip(chromiumMissing); return }
    const env = { HOME: home, SHOAL_API: api }
    // the same OS user's CLI finds the daemon's token in ~/.shoal/api.token by itself
    await writeFile(join(home, 'kept.bin'), randomBytes(50_000))
    const added = await runShoal(['add', join(home, 'kept.bin'), '--json'], { env })
    assert.equal(added.code, 0, added.stderr)
    const cid = added.json().find(l => l.type === 'result')!.cid as string
    const secret = join(home, 'secret.bin')
    await writeFile(secret, randomBytes(20_000))
    const out = join(home, 'stolen')

    page = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end(attackerPage(`http://${api}`, secret, out, cid))
    })
    await new Promise<void>(resolve => { page.listen(0, '127.0.0.1', () => { resolve() }) })
    const pageUrl = `http://127.0.0.1:${(page.address() as { port: number }).port}/`
    assert.notEqual(new URL(pageUrl).origin, new URL(`http://${api}`).origin)

    const browser = await runProgram('chromium', [
      ...chromiumFlags(join(work, 'chromium-profile')), '--virtual-time-budget=30000', '--dump-dom', pageUrl
    ], 120_000)
    const dom = /RESULTS (.*) END/.exec(browser.stdout)
    assert.ok(dom !== null, `the page finished its attempts; chromium exited ${browser.code}: ${browser.stdout.slice(0, 2000)} ${browser.stderr.slice(-2000)}`)
    const results = JSON.parse(dom[1]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>')) as Record<string, string>
    console.log('what the page saw:', JSON.stringify(results))

    // from the daemon's side: nothing added, downloaded or cancelled
    const status = await new ControlClient({ address: api, dataDir: join(home, '.shoal') }).status()
    const ls = await runShoal(['ls', '--json'], { env })
    assert.equal(ls.code, 0, ls.stderr)
    const contents = ls.json().find(l => l.type === 'result')!.contents as Array<{ cid: string, path: string, state: string }>
    assert.deepEqual(contents.map(c => c.cid), [cid])
    assert.equal(contents[0]!.state, 'seeding')
    assert.ok(!contents.some(c => c.path === secret))
    await assert.rejects(access(out), 'no download folder was created')
    // the requests reached the daemon and were refused there (not merely blocked by the browser)
    const log = daemon.stderr()
    for (const pattern of [/refused POST \/v1\/contents/, /refused POST \/v1\/downloads/, /refused (OPTIONS|DELETE) \/v1\/contents\//, /refused GET \/v1\/status/, /refused GET \/v1\/data\//]) {
      assert.match(log, pattern)
    }
    assert.doesNotMatch(log, /request failed/)

    // and the page read nothing: no answer of the daemon is in what it saw
    assert.ok(!dom[1]!.includes(status.peerId), 'the page never saw the peer id')
    assert.ok(!dom[1]!.includes('seeding'), 'the page never saw the content list')
    for (const key of ['readStatus', 'readContents', 'jsonCors', 'delete', 'readData', 'readDataRange']) assert.match(results[key] ?? '', /^threw/, key)
    assert.equal(results.imgData, 'error', 'an <img> of the data plane does not load')
    assert.equal(status.contents, 1)
  })
})
