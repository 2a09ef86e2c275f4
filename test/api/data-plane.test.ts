// The HTTP data plane (GET/HEAD /v1/data) and `shoal cat`: real nodes on loopback, a real control
// server, real HTTP, and the real CLI in a child process.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir, open, readFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ControlServer } from '../../src/api/control-server.js'
import { parseRange } from '../../src/util/parse-range.js'
import type { ShoalNode } from '../../src/node/shoal-node.js'
import type { ContentInfo } from '../../src/node/types.js'
import { SHOAL_MAIN, cleanEnv, spawnShoal } from '../cli/helpers.js'
import { CHUNK, Harness, randomFile, sha256File, waitUntil, within } from '../node/helpers.js'

const UNKNOWN_CID = 'bafyreigvdpre2rqmnwd3eodt5rvk3clr2ykcu6x4lwejjiix35cczyxafa'

interface Answer { status: number, headers: Record<string, string | string[] | undefined>, body: Buffer }

/** One request with full control of the headers (fetch will not send Host or Sec-Fetch-* as told). */
async function raw (base: string, method: string, path: string, headers: Record<string, string>): Promise<Answer> {
  const url = new URL(base)
  return await new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers, timeout: 30_000 }, res => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }) })
      res.on('error', reject)
    })
    req.on('timeout', () => { req.destroy(new Error('timed out')) })
    req.on('error', reject)
    req.end()
  })
}

/** `shoal ...args` in a child process, stdout kept as bytes. */
async function runCli (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null, stdout: Buffer, stderr: string }> {
  const child = spawn(process.execPath, [SHOAL_MAIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  let err = ''
  child.stdout.on('data', (d: Buffer) => out.push(d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, 60_000)
  const code = await new Promise<number | null>(resolve => child.once('close', c => { resolve(c) }))
  clearTimeout(timer)
  return { code, stdout: Buffer.concat(out), stderr: err }
}

describe('HTTP data plane', { timeout: 180_000 }, () => {
  const h = new Harness()
  const servers: ControlServer[] = []
  let seeder: ShoalNode
  let base: string
  let token: string
  let file: Buffer
  let fileCid: string
  let folderCid: string
  let nested: Buffer
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${token}` })
  const serve = async (node: ShoalNode): Promise<{ at: string, token: string }> => {
    // a short search, so the unknown-content case answers in seconds (the default is 15 s)
    const server = new ControlServer({ address: '127.0.0.1:0', dataFindTimeoutMs: 3000 })
    servers.push(server)
    const at = await server.start(node)
    return { at, token: server.token! }
  }

  before(async () => {
    await h.startBootstrap()
    const dir = await h.tempDir()
    // 11 chunks of 64 KiB, the last one short
    await randomFile(join(dir, 'blob.bin'), 10 * CHUNK + 1234)
    file = await readFile(join(dir, 'blob.bin'))
    await mkdir(join(dir, 'tree', 'sub dir'), { recursive: true })
    await randomFile(join(dir, 'tree', 'a.txt'), 5000)
    await randomFile(join(dir, 'tree', 'sub dir', 'b é.bin'), 3 * CHUNK + 7)
    nested = await readFile(join(dir, 'tree', 'sub dir', 'b é.bin'))
    await randomFile(join(dir, 'tree', 'empty'), 0)
    seeder = await h.node()
    fileCid = (await seeder.add(join(dir, 'blob.bin'))).cid
    folderCid = (await seeder.add(join(dir, 'tree'))).cid
    const served = await serve(seeder)
    base = served.at
    token = served.token
  })

  after(async () => {
    for (const s of servers) await s.stop()
    await h.cleanup()
  })

  it('GET answers the whole file, bit-identical, with its length, ETag and type', async () => {
    const res = await raw(base, 'GET', `/v1/data/${fileCid}`, auth())
    assert.equal(res.status, 200)
    assert.ok(res.body.equals(file), 'the body is the file')
    assert.equal(res.headers['content-length'], String(file.length))
    assert.equal(res.headers.etag, `"${fileCid}"`)
    assert.equal(res.headers['accept-ranges'], 'bytes')
    assert.equal(res.headers['content-type'], 'application/octet-stream')
  })

  it('Range: first, middle (across a chunk boundary), last bytes and suffixes answer 206 with Content-Range', async () => {
    const size = file.length
    const cases: Array<[string, number, number]> = [
      ['bytes=0-0', 0, 0],
      ['bytes=0-999', 0, 999],
      [`bytes=${CHUNK - 10}-${CHUNK + 9}`, CHUNK - 10, CHUNK + 9],
      [`bytes=${size - 1}-${size - 1}`, size - 1, size - 1],
      [`bytes=${size - 100}-`, size - 100, size - 1],
      ['bytes=-1', size - 1, size - 1],
      ['bytes=-2000', size - 2000, size - 1],
      [`bytes=-${size + 50}`, 0, size - 1],
      [`bytes=1000-${size + 10_000}`, 1000, size - 1]
    ]
    for (const [range, start, end] of cases) {
      const res = await raw(base, 'GET', `/v1/data/${fileCid}`, { ...auth(), range })
      assert.equal(res.status, 206, range)
      assert.equal(res.headers['content-range'], `bytes ${start}-${end}/${size}`, range)
      assert.equal(res.headers['content-length'], String(end - start + 1), range)
      assert.ok(res.body.equals(file.subarray(start, end + 1)), `${range}: the bytes of the range`)
    }
  })

  it('a range past the end answers 416 with Content-Range: bytes */size; several ranges answer the whole file', async () => {
    for (const range of [`bytes=${file.length}-`, `bytes=${file.length + 5}-${file.length + 9}`, 'bytes=-0']) {
      const res = await raw(base, 'GET', `/v1/data/${fileCid}`, { ...auth(), range })
      assert.equal(res.status, 416, range)
      assert.equal(res.headers['content-range'], `bytes */${file.length}`)
      assert.equal(JSON.parse(res.body.toString()).error.code, 'ERR_RANGE_NOT_SATISFIABLE')
    }
    const multi = await raw(base, 'GET', `/v1/data/${fileCid}`, { ...auth(), range: 'bytes=0-9,20-29' })
    assert.equal(multi.status, 200)
    assert.ok(multi.body.equals(file))
    const other = await raw(base, 'GET', `/v1/data/${fileCid}`, { ...auth(), range: 'items=0-9' })
    assert.equal(other.status, 200, 'a unit other than bytes is ignored')
  })

  it('HEAD answers the headers of GET and no body; If-None-Match with the ETag answers 304', async () => {
    const head = await raw(base, 'HEAD', `/v1/data/${fileCid}`, auth())
    assert.equal(head.status, 200)
    assert.equal(head.headers['content-length'], String(file.length))
    assert.equal(head.headers.etag, `"${fileCid}"`)
    assert.equal(head.body.length, 0)
    const ranged = await raw(base, 'HEAD', `/v1/data/${fileCid}`, { ...auth(), range: 'bytes=10-19' })
    assert.equal(ranged.status, 206)
    assert.equal(ranged.headers['content-length'], '10')
    const cached = await raw(base, 'GET', `/v1/data/${fileCid}`, { ...auth(), 'if-none-match': `"other", "${fileCid}"` })
    assert.equal(cached.status, 304)
    assert.equal(cached.body.length, 0)
    assert.equal(cached.headers.etag, `"${fileCid}"`)
    const stale = await raw(base, 'GET', `/v1/data/${fileCid}`, { ...auth(), 'if-none-match': '"other"' })
    assert.equal(stale.status, 200)
  })

  it('a file inside a folder content, by its %-encoded path; bad and missing paths are 400 and 404', async () => {
    const path = `/v1/data/${folderCid}/${encodeURIComponent('sub dir')}/${encodeURIComponent('b é.bin')}`
    const res = await raw(base, 'GET', path, auth())
    assert.equal(res.status, 200)
    assert.ok(res.body.equals(nested))
    assert.equal(res.headers.etag, `"${folderCid}/${encodeURI('sub dir/b é.bin')}"`)
    const part = await raw(base, 'GET', path, { ...auth(), range: `bytes=${CHUNK}-${2 * CHUNK}` })
    assert.equal(part.status, 206)
    assert.ok(part.body.equals(nested.subarray(CHUNK, 2 * CHUNK + 1)))
    const empty = await raw(base, 'GET', `/v1/data/${folderCid}/empty`, auth())
    assert.equal(empty.status, 200)
    assert.equal(empty.headers['content-length'], '0')
    assert.equal(empty.body.length, 0)
    // the file of a one-file content answers under its name too
    assert.equal((await raw(base, 'HEAD', `/v1/data/${fileCid}/blob.bin`, auth())).status, 200)
    const cases: Array<[string, number, string]> = [
      [`/v1/data/${folderCid}`, 404, 'ERR_NO_SUCH_FILE'],
      [`/v1/data/${folderCid}/missing.txt`, 404, 'ERR_NO_SUCH_FILE'],
      [`/v1/data/${folderCid}/sub%20dir`, 404, 'ERR_NO_SUCH_FILE'],
      [`/v1/data/${folderCid}/%2e%2e%2fa.txt`, 400, 'ERR_BAD_REQUEST'],
      [`/v1/data/${folderCid}/sub%20dir%2f%2e%2e%2fa.txt`, 400, 'ERR_BAD_REQUEST'],
      [`/v1/data/${folderCid}//a.txt`, 400, 'ERR_BAD_REQUEST'],
      ['/v1/data/not-a-cid', 400, 'ERR_BAD_CID']
    ]
    for (const [url, status, code] of cases) {
      const answer = await raw(base, 'GET', url, auth())
      assert.equal(answer.status, status, url)
      assert.equal(JSON.parse(answer.body.toString()).error.code, code, url)
    }
  })

  it('needs the token, and refuses a browser page (Origin, Sec-Fetch-Site) before the token', async () => {
    const none = await raw(base, 'GET', `/v1/data/${fileCid}`, {})
    assert.equal(none.status, 401)
    assert.ok(!none.body.includes(file.subarray(0, 64)), 'no content bytes without the token')
    assert.equal((await raw(base, 'HEAD', `/v1/data/${fileCid}`, { authorization: 'Bearer wrong' })).status, 401)
    const page = await raw(base, 'GET', `/v1/data/${fileCid}`, { ...auth(), origin: 'https://evil.example' })
    assert.equal(page.status, 403)
    assert.equal(JSON.parse(page.body.toString()).error.code, 'ERR_FORBIDDEN_ORIGIN')
    const img = await raw(base, 'GET', `/v1/data/${fileCid}`, { 'sec-fetch-site': 'cross-site' })
    assert.equal(img.status, 403)
    const rebound = await raw(base, 'GET', `/v1/data/${fileCid}`, { ...auth(), host: 'evil.example:7070' })
    assert.equal(rebound.status, 403)
  })

  it('ShoalNode.read (the API under the routes): a range, its errors, its lease', async () => {
    const read = await seeder.read(fileCid, { start: CHUNK - 5, end: CHUNK + 4 })
    assert.deepEqual([read.size, read.start, read.end, read.name, read.etag], [file.length, CHUNK - 5, CHUNK + 4, 'blob.bin', `"${fileCid}"`])
    assert.equal(seeder.leases.inUse(fileCid), true, 'leased while the stream is open')
    const parts: Uint8Array[] = []
    for await (const part of read.stream) parts.push(part)
    assert.ok(Buffer.concat(parts).equals(file.subarray(CHUNK - 5, CHUNK + 5)))
    assert.equal(seeder.leases.inUse(fileCid), false, 'released when the stream ends')
    await assert.rejects(seeder.read(fileCid, { start: file.length }), { code: 'ERR_RANGE_NOT_SATISFIABLE' })
    await assert.rejects(seeder.read(fileCid, { start: 10, end: 2 }), { code: 'ERR_BAD_REQUEST' })
    await assert.rejects(seeder.read(folderCid, { path: 'nope' }), { code: 'ERR_NO_SUCH_FILE' })
    await assert.rejects(seeder.read(fileCid, { signal: AbortSignal.abort() }), { code: 'ERR_ABORTED' })
    const stat = await seeder.stat(folderCid, { path: 'a.txt' })
    assert.deepEqual([stat.size, stat.held, stat.etag], [5000, true, `"${folderCid}/a.txt"`])
    assert.equal(seeder.leases.inUse(fileCid) || seeder.leases.inUse(folderCid), false)
  })

  it('a content nobody provides answers 404 once the search gives up', async () => {
    const res = await within('unknown content', 40_000, raw(base, 'GET', `/v1/data/${UNKNOWN_CID}`, auth()))
    assert.match(JSON.parse(res.body.toString()).error.message, /no peer provides/)
    assert.equal(res.status, 404)
    assert.equal(JSON.parse(res.body.toString()).error.code, 'ERR_NOT_FOUND')
  })

  it('a node that does not hold the content streams it while it downloads from a rate-capped seeder', async t => {
    const dir = await h.tempDir()
    // 96 chunks at 512 KiB/s: the download takes seconds, so the stream can be seen starting early
    await randomFile(join(dir, 'slow.bin'), 96 * CHUNK)
    const slow = await readFile(join(dir, 'slow.bin'))
    const capped = await h.node({ uploadLimit: 512 * 1024 })
    const slowCid = (await capped.add(join(dir, 'slow.bin'))).cid
    const receiver = await h.node()
    const served = await serve(receiver)
    // chunks received so far (written, not only the durable ones `have` counts)
    const progress = async (): Promise<{ have: number, chunks: number }> => {
      const info = (await receiver.ls()).find(c => c.cid === slowCid)
      return { have: Math.round((info?.downloadedBytes ?? 0) / CHUNK), chunks: info?.chunks ?? 0 }
    }

    // a small range near the end first (curl -r): it comes before the rest of the content
    const at = 90 * CHUNK + 1000
    const range = await within('range read', 60_000, raw(served.at, 'GET', `/v1/data/${slowCid}`, { authorization: `Bearer ${served.token}`, range: `bytes=${at}-${at + 999}` }))
    assert.equal(range.status, 206)
    assert.ok(range.body.equals(slow.subarray(at, at + 1000)))
    const afterRange = await progress()
    t.diagnostic(`range in chunk 90 served with ${afterRange.have}/${afterRange.chunks} chunks received`)
    // rarest-first alone takes chunk 90 at a random point, half-way on average; asked first, it comes
    // right after the few chunks already in flight
    assert.ok(afterRange.have <= afterRange.chunks / 8, `the range was fetched first (${afterRange.have}/${afterRange.chunks} chunks received when it was served)`)

    // then the whole file: its first bytes arrive while the download is still under way
    const res = await fetch(`${served.at}/v1/data/${slowCid}`, { headers: { authorization: `Bearer ${served.token}` } })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-length'), String(slow.length))
    const reader = res.body!.getReader()
    const parts: Uint8Array[] = []
    const first = await reader.read()
    assert.equal(first.done, false)
    parts.push(first.value!)
    const atFirst = await progress()
    t.diagnostic(`first body bytes of the whole file with ${atFirst.have}/${atFirst.chunks} chunks received`)
    const entry = (await receiver.ls()).find(c => c.cid === slowCid)
    assert.ok(atFirst.have < atFirst.chunks && entry?.state === 'downloading', `first bytes arrived before the download was complete (${atFirst.have}/${atFirst.chunks}, ${entry?.state})`)
    for (let i = 0; i < 10_000; i++) {
      const next = await within('body', 60_000, reader.read())
      if (next.done) break
      parts.push(next.value)
    }
    assert.ok(Buffer.concat(parts).equals(slow), 'the streamed body is the file')
    assert.ok(receiver.leases.inUse(slowCid) === false, 'the read released its lease')
    // the content now lives in the receiver's managed store and is seeded from there
    const held = (await receiver.ls()).find(c => c.cid === slowCid)
    assert.ok(held?.path.startsWith(join(receiver.init.dataDir, 'store', slowCid)), held?.path)
  })

  it('a client that goes away ends its read, not the download: the content completes and is seeded', async () => {
    const dir = await h.tempDir()
    await randomFile(join(dir, 'left.bin'), 32 * CHUNK)
    const capped = await h.node({ uploadLimit: 512 * 1024 })
    const leftCid = (await capped.add(join(dir, 'left.bin'))).cid
    const receiver = await h.node()
    const served = await serve(receiver)
    const gone = new AbortController()
    const res = await fetch(`${served.at}/v1/data/${leftCid}`, { headers: { authorization: `Bearer ${served.token}` }, signal: gone.signal })
    const first = await res.body!.getReader().read()
    assert.equal(first.done, false)
    gone.abort()
    await waitUntil('the lease to go with the client', () => !receiver.leases.inUse(leftCid))
    const info = async (): Promise<ContentInfo | undefined> => (await receiver.ls()).find(c => c.cid === leftCid)
    await waitUntil('the download to complete', async () => (await info())?.state === 'seeding', 40_000)
    const copy = (await info())!.path
    assert.equal(await sha256File(copy), await sha256File(join(dir, 'left.bin')))

    // a byte altered on disk behind the node's back never reaches a client: the transfer is cut
    const handle = await open(copy, 'r+')
    try {
      const byte = Buffer.alloc(1)
      await handle.read(byte, 0, 1, 5 * CHUNK + 10)
      byte[0] = byte[0]! ^ 0xff
      await handle.write(byte, 0, 1, 5 * CHUNK + 10)
    } finally {
      await handle.close()
    }
    const headers = { authorization: `Bearer ${served.token}` }
    await assert.rejects(async () => {
      const cut = await fetch(`${served.at}/v1/data/${leftCid}`, { headers: { ...headers, range: `bytes=${5 * CHUNK}-${5 * CHUNK + 99}` } })
      assert.equal(cut.status, 206)
      await cut.arrayBuffer()
    }, 'the body of an altered chunk is cut, not sent')
    const intact = await raw(served.at, 'GET', `/v1/data/${leftCid}`, { ...headers, range: 'bytes=0-99' })
    assert.equal(intact.status, 206, 'the other chunks are still served')
  })

  it('curl -r 1000-1999 against a `shoal daemon` process that did not hold the content returns those bytes', async () => {
    const dataDir = await h.tempDir()
    const daemon = spawnShoal(['daemon', '--api', '127.0.0.1:0', '--json', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--bootstrap', h.bootstrap!.multiaddrs[0]!])
    try {
      const ready = await daemon.waitForLine(l => l.type === 'result')
      const api = String(ready.api)
      const daemonToken = (await readFile(join(dataDir, 'api.token'), 'utf8')).trim()
      const curl = spawn('curl', ['-sS', '--fail', '--max-time', '60', '-r', '1000-1999', '-H', `Authorization: Bearer ${daemonToken}`, '-D', '-', '-o', join(dataDir, 'part.bin'), `${api}/v1/data/${fileCid}`], { stdio: ['ignore', 'pipe', 'pipe'] })
      let headers = ''
      curl.stdout.setEncoding('utf8').on('data', (d: string) => { headers += d })
      const code = await new Promise<number | null>(resolve => curl.once('close', c => { resolve(c) }))
      assert.equal(code, 0, headers)
      assert.match(headers, /^HTTP\/1\.1 206/)
      assert.match(headers, new RegExp(`content-range: bytes 1000-1999/${file.length}`, 'i'))
      assert.ok((await readFile(join(dataDir, 'part.bin'))).equals(file.subarray(1000, 2000)), 'curl got bytes 1000-1999')
    } finally {
      daemon.child.kill('SIGTERM')
      await daemon.exited
    }
  })

  it('shoal cat writes the file (through a daemon) and a folder\'s file (through a local node) to stdout', async () => {
    const viaDaemon = await runCli(['cat', fileCid, '--api', new URL(base).host, '--api-token', token])
    assert.equal(viaDaemon.code, 0, viaDaemon.stderr)
    assert.ok(viaDaemon.stdout.equals(file), 'cat through the daemon is the file')

    const dataDir = await h.tempDir()
    const local = await runCli(['cat', `${folderCid}/sub dir/b é.bin`, '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--bootstrap', h.bootstrap!.multiaddrs[0]!])
    assert.equal(local.code, 0, local.stderr)
    assert.ok(local.stdout.equals(nested), 'cat cid/path through a local node is the file')

    const missing = await runCli(['cat', `${folderCid}/nope`, '--api', new URL(base).host, '--api-token', token])
    assert.equal(missing.code, 5, missing.stderr)
    assert.equal(missing.stdout.length, 0)
  })
})

describe('parseRange', () => {
  it('reads single byte ranges and refuses what it must', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 })
    assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 })
    assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 })
    assert.deepEqual(parseRange('BYTES = 5-5', 100), { start: 5, end: 5 })
    assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable')
    assert.equal(parseRange('bytes=-0', 100), 'unsatisfiable')
    assert.equal(parseRange('bytes=0-0', 0), 'unsatisfiable')
    assert.equal(parseRange('bytes=9-0', 100), undefined)
    assert.equal(parseRange('bytes=a-b', 100), undefined)
    assert.equal(parseRange('bytes=-', 100), undefined)
    assert.equal(parseRange('bytes=0-1,5-6', 100), undefined)
    assert.equal(parseRange('lines=0-1', 100), undefined)
  })
})
