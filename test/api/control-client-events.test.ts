// ControlClient.get against a real daemon API: it waits on GET /v1/events (progress, then done),
// polls when the daemon has no event stream to spare, and reads the stream's framing exactly.
import assert from 'node:assert/strict'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ControlClient } from '../../src/api/control-client.js'
import { ControlServer } from '../../src/api/control-server.js'
import { MAX_EVENT_LINE_BYTES, readEventStream } from '../../src/api/read-event-stream.js'
import type { DaemonEvent } from '../../src/api/read-event-stream.js'
import type { ShoalNode } from '../../src/node/shoal-node.js'
import type { Progress } from '../../src/node/types.js'
import { isShoalError } from '../../src/util/shoal-error.js'
import { Harness, randomFile, within } from '../node/helpers.js'

const TOKEN = 'control-client-events-token-0123456789'

async function * bytesOf (...parts: Array<string | Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? new TextEncoder().encode(part) : part
}

async function collect (body: AsyncIterable<Uint8Array>): Promise<DaemonEvent[]> {
  const events: DaemonEvent[] = []
  for await (const e of readEventStream(body)) events.push(e)
  return events
}

describe('readEventStream', () => {
  it('reads events split anywhere, a multi-byte character included, and skips comments', async () => {
    const text = ': shoal events\n\nevent: progress\ndata: {"cid":"a","have":1}\n\n: keep-alive\n\nevent: done\r\ndata: {"name":"é"}\r\n\r\n'
    const bytes = new TextEncoder().encode(text)
    // one byte at a time: every line, and the two bytes of é, are cut
    const parts = Array.from(bytes, b => Uint8Array.of(b))
    assert.deepEqual(await collect(bytesOf(...parts)), [
      { event: 'progress', data: { cid: 'a', have: 1 } },
      { event: 'done', data: { name: 'é' } }
    ])
  })

  it('ends with ERR_DAEMON on data that is not JSON and on a line longer than the bound', async () => {
    await assert.rejects(collect(bytesOf('event: done\ndata: {oops\n\n')), (err: unknown) => isShoalError(err, 'ERR_DAEMON'))
    const long = 'data: ' + 'x'.repeat(MAX_EVENT_LINE_BYTES + 1)
    await assert.rejects(collect(bytesOf(long.slice(0, 1000), long.slice(1000))), (err: unknown) => isShoalError(err, 'ERR_DAEMON') && /over/.test(err.message))
  })
})

describe('ControlClient.get on a daemon', { timeout: 90_000 }, () => {
  const h = new Harness()
  let seeder: ShoalNode
  let receiver: ShoalNode
  /** The one folder the daemon may read and write: every source and output goes under it. */
  let root: string
  const dir = async (): Promise<string> => await mkdtemp(join(root, 'd-'))
  const servers: ControlServer[] = []
  const client = async (maxEventStreams?: number): Promise<ControlClient> => {
    const server = new ControlServer({ address: '127.0.0.1:0', token: TOKEN, allowPaths: [root], ...(maxEventStreams === undefined ? {} : { maxEventStreams }) })
    servers.push(server)
    const base = await server.start(receiver)
    return new ControlClient({ address: new URL(base).host, token: TOKEN })
  }
  const seed = async (bytes: number): Promise<{ cid: string, source: string }> => {
    const source = join(await dir(), 'content.bin')
    await randomFile(source, bytes)
    return { cid: (await seeder.add(source, { chunkSize: 64 * 1024 })).cid, source }
  }

  before(async () => {
    await h.startBootstrap()
    seeder = await h.node()
    // 2 MB/s: a 4 MiB download takes two seconds, time for the second client's probe below
    receiver = await h.node({ downloadLimit: 2_000_000 })
    root = await h.tempDir()
  })
  after(async () => {
    await Promise.allSettled(servers.map(async s => { await s.stop() }))
    await h.cleanup()
  })

  it('resolves from the event stream once the download is done, reporting progress on the way', async () => {
    // one event stream only: while the get holds it, a second reader is refused
    const api = await client(1)
    const { cid, source } = await seed(4 * 1024 * 1024)
    const seen: Progress[] = []
    let probe: Promise<unknown> | undefined
    let refusal: unknown
    const out = await dir()
    const result = await within('the get', 60_000, api.get(cid, {
      out,
      onProgress: p => {
        seen.push(p)
        // bounded: should the stream be granted after all, the probe ends instead of waiting for events
        probe ??= (async () => { for await (const e of api.events({ signal: AbortSignal.timeout(5_000) })) return e })().catch((err: unknown) => { refusal = err })
      }
    }))
    assert.ok(probe !== undefined, 'progress was reported')
    await probe
    assert.ok(isShoalError(refusal, 'ERR_TOO_MANY_STREAMS'), `the get was reading the one event stream: ${String(refusal)}`)
    assert.equal(result.cid, cid)
    assert.equal(result.size, 4 * 1024 * 1024)
    assert.deepEqual(await readFile(result.path), await readFile(source))
    assert.ok(seen.every(p => p.cid === cid && p.total === 64), JSON.stringify(seen))
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.have >= seen[i - 1]!.have, 'durable chunks only grow')
    // the same content again: complete already, so the first look answers; the stream was given back
    const again = await within('the second get', 10_000, api.get(cid, { out }))
    assert.equal(again.path, result.path)
  })

  it('polls instead when the daemon has no event stream to spare, and events() says why', async () => {
    const api = await client(0)
    await assert.rejects(async () => { for await (const e of api.events()) assert.fail(`no event expected, got ${e.event}`) }, (err: unknown) => isShoalError(err, 'ERR_TOO_MANY_STREAMS'))
    const { cid, source } = await seed(512 * 1024)
    const result = await within('the polled get', 60_000, api.get(cid, { out: await dir() }))
    assert.deepEqual(await readFile(result.path), await readFile(source))
  })

  it('rejects with the download\'s own error code, from the stream', async () => {
    const api = await client()
    const { cid } = await seed(256 * 1024)
    // a file of the content's name is in the way: the daemon's download fails once the manifest came
    const out = await dir()
    await writeFile(join(out, 'content.bin'), 'not shoal\'s')
    await assert.rejects(within('the failing get', 60_000, api.get(cid, { out })), (err: unknown) => isShoalError(err, 'ERR_ALREADY_EXISTS'))
    assert.equal(await readFile(join(out, 'content.bin'), 'utf8'), 'not shoal\'s', 'the file in the way is untouched')
  })

  it('stops waiting when its signal aborts, and says the daemon keeps downloading', async () => {
    const api = await client()
    const missing = 'bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
    const controller = new AbortController()
    const pending = api.get(missing, { out: await dir(), signal: controller.signal })
    setTimeout(() => { controller.abort() }, 300)
    await assert.rejects(within('the aborted get', 10_000, pending), (err: unknown) => isShoalError(err, 'ERR_ABORTED'))
  })
})
