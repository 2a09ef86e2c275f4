import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCode, isErrorCode, ShoalError } from '../errors.js'
import type { ShoalApi } from '../node/shoal-api.js'
import type { AddOptions, AddResult, ContentInfo, ContentRead, GcOptions, GcReport, GetOptions, GetResult, NodeStatus, Progress, ReadOptions } from '../node/types.js'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { POLL_INTERVAL_MS, REQUEST_TIMEOUT_MS } from './constants.js'
import { parseAddress } from './parse-address.js'
import { readTokenFile, tokenFileIn } from './api-token.js'
import { readEventStream } from './read-event-stream.js'
import type { DaemonEvent } from './read-event-stream.js'

const STOPPED_WAITING = 'stopped waiting; the daemon keeps downloading (shoal cancel to stop it)'

export interface ControlClientInit {
  address: string
  /** Bearer token; default SHOAL_API_TOKEN, else the contents of `tokenFile`. */
  token?: string
  /** The daemon's data dir, whose api.token is read when no token is given (default ~/.shoal). */
  dataDir?: string
  /** The token file to read when no token is given (default `<dataDir>/api.token`). */
  tokenFile?: string
}

/** Talks to a running daemon's control API; implements the same ShoalApi as an in-process node. */
export class ControlClient implements ShoalApi {
  readonly #base: string
  readonly #address: string
  readonly #tokenFile: string
  #token: Promise<string | undefined> | undefined
  #sentToken = false

  constructor (init: ControlClientInit) {
    const { host, port } = parseAddress(init.address)
    this.#address = init.address
    this.#base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
    const given = init.token !== undefined && init.token !== '' ? init.token : process.env.SHOAL_API_TOKEN
    if (given !== undefined && given !== '') this.#token = Promise.resolve(given)
    this.#tokenFile = init.tokenFile ?? tokenFileIn(init.dataDir ?? join(homedir(), '.shoal'))
  }

  async add (path: string, options: AddOptions = {}): Promise<AddResult> {
    const { resolve } = await import('node:path')
    return await this.#call<AddResult>('POST', '/v1/contents', { path: resolve(path), chunkSize: options.chunkSize }, options.signal)
  }

  /**
   * Starts a download on the daemon and resolves once it is complete. Completion and progress come
   * from the daemon's event stream (GET /v1/events, opened before the download starts so no event is
   * missed): no polling, and the answer comes the moment the daemon finishes. A daemon that refuses
   * the stream (all its event streams taken) or closes it is polled instead, every POLL_INTERVAL_MS.
   */
  async get (cid: string, options: GetOptions = {}): Promise<GetResult> {
    const { resolve } = await import('node:path')
    const started = Date.now()
    const watching = new AbortController()
    const signal = options.signal === undefined ? watching.signal : AbortSignal.any([options.signal, watching.signal])
    try {
      const events = await this.#openEvents(signal)
      await this.#call('POST', '/v1/downloads', { cid, out: resolve(options.out ?? '.'), ...(options.overwrite === true ? { overwrite: true } : {}) }, options.signal)
      if (events !== undefined) {
        const result = await this.#awaitEvents(cid, started, events, options)
        if (result !== undefined) return result
      }
      return await this.#poll(cid, started, options)
    } finally {
      // ends the event stream's request, if one is open
      watching.abort()
    }
  }

  /**
   * GET /v1/events: the daemon's typed events as they happen (progress, peer, stalled, banned,
   * done, error, and `dropped` when this reader fell behind), until `signal` aborts or the daemon
   * closes the stream.
   */
  async * events (options: { signal?: AbortSignal } = {}): AsyncGenerator<DaemonEvent> {
    const events = await this.#openEvents(options.signal, true)
    if (events !== undefined) yield * events
  }

  /** The event stream, or undefined when the daemon refuses one and `strict` is off (the caller polls instead). */
  async #openEvents (signal: AbortSignal | undefined, strict = false): Promise<AsyncGenerator<DaemonEvent> | undefined> {
    const res = await this.#send('GET', '/v1/events', undefined, signal, { accept: 'text/event-stream' }, false)
    if (!res.ok || res.body === null) {
      if (strict || res.status === 401 || res.status === 403) await this.#fail(res)
      await res.body?.cancel().catch(() => {})
      return undefined
    }
    return this.#readEvents(res.body as AsyncIterable<Uint8Array>, signal)
  }

  async * #readEvents (body: AsyncIterable<Uint8Array>, signal: AbortSignal | undefined): AsyncGenerator<DaemonEvent> {
    try {
      yield * readEventStream(body)
    } catch (err) {
      if (signal?.aborted === true) return
      throw err
    }
  }

  /**
   * Waits on the event stream for `cid` to finish; undefined when the stream ended first (the
   * caller polls). The content is looked up once first: it may have been complete already, or
   * finished before the stream's first event.
   */
  async #awaitEvents (cid: string, started: number, events: AsyncGenerator<DaemonEvent>, options: GetOptions): Promise<GetResult | undefined> {
    let result = await this.#check(cid, started, options)
    if (result !== undefined) return result
    for await (const { event, data } of events) {
      if (event === 'dropped') {
        // events were lost, possibly this content's last ones
        result = await this.#check(cid, started, options)
        if (result !== undefined) return result
        continue
      }
      const detail = data as { cid?: unknown, code?: unknown, message?: unknown }
      if (detail?.cid !== cid) continue
      if (event === 'progress') {
        options.onProgress?.({ ...(data as Progress), cid })
      } else if (event === 'error') {
        throw new ShoalError(isErrorCode(detail.code) ? detail.code : ErrorCode.DAEMON, typeof detail.message === 'string' ? detail.message : 'the daemon reported an error')
      } else if (event === 'done') {
        // complete by now; should the listing disagree, nothing more would come here: the caller polls
        return await this.#check(cid, started, options)
      }
    }
    if (options.signal?.aborted === true) throw new ShoalError('ERR_ABORTED', STOPPED_WAITING)
    return undefined
  }

  /** Polls the content until it is complete. */
  async #poll (cid: string, started: number, options: GetOptions): Promise<GetResult> {
    for (;;) {
      const result = await this.#check(cid, started, options, true)
      if (result !== undefined) return result
      await sleep(POLL_INTERVAL_MS, undefined, { signal: options.signal }).catch(() => {
        throw new ShoalError('ERR_ABORTED', STOPPED_WAITING)
      })
    }
  }

  /** The result once the content is complete, undefined while it is not; throws the daemon's error. `report`: progress from the listing. */
  async #check (cid: string, started: number, options: GetOptions, report = false): Promise<GetResult | undefined> {
    const info = await this.#call<ContentInfo>('GET', `/v1/contents/${encodeURIComponent(cid)}`, undefined, options.signal)
    if (report) {
      options.onProgress?.({
        cid,
        have: info.have,
        total: info.chunks,
        bytes: info.chunks === 0 ? info.size : Math.min(info.size, info.have * info.chunkSize),
        totalBytes: info.size,
        rateBps: 0,
        peers: info.peers
      })
    }
    if (info.state === 'error') throw new ShoalError(isErrorCode(info.errorCode) ? info.errorCode : ErrorCode.DAEMON, info.error ?? 'the daemon reported an error')
    if (info.state !== 'complete' && info.state !== 'seeding') return undefined
    return { cid, path: info.path, size: info.size, fetchedChunks: info.chunks, elapsedMs: Date.now() - started, received: info.received, ...(info.peerShare === undefined ? {} : { peerShare: info.peerShare }) }
  }

  /** A one-time dashboard link (POST /v1/dashboard/links): opening it in a browser signs that browser in. */
  async dashboardLink (): Promise<{ url: string, expiresInMs: number }> {
    const link = await this.#call<{ path: string, expiresInMs: number }>('POST', '/v1/dashboard/links', {})
    return { url: this.#base + link.path, expiresInMs: link.expiresInMs }
  }

  /** GET /v1/data/{cid}[/{path}], with a Range when `start` or `end` is given; the body streams as the daemon sends it. */
  async read (cid: string, options: ReadOptions = {}): Promise<ContentRead> {
    const path = `/v1/data/${encodeURIComponent(cid)}${options.path === undefined || options.path === '' ? '' : '/' + options.path.split('/').map(encodeURIComponent).join('/')}`
    const ranged = options.start !== undefined || options.end !== undefined
    const headers: Record<string, string> = ranged ? { range: `bytes=${options.start ?? 0}-${options.end ?? ''}` } : {}
    // no overall timeout: the body flows for as long as the content takes to arrive
    const res = await this.#send('GET', path, undefined, options.signal, headers, false)
    if (!res.ok) await this.#fail(res)
    const length = Number(res.headers.get('content-length') ?? '0')
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get('content-range') ?? '')
    const size = range === null ? length : Number(range[3])
    const start = range === null ? 0 : Number(range[1])
    const name = decodeURIComponent(/filename\*=UTF-8''([^;]*)/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? '')
    const body = res.body
    return {
      cid,
      path: options.path ?? name,
      name,
      size,
      etag: res.headers.get('etag') ?? '',
      held: false,
      start,
      end: start + length - 1,
      stream: body === null ? emptyStream() : this.#body(body as AsyncIterable<Uint8Array>, options.signal)
    }
  }

  /** A data plane body, with a cut transfer reported as the daemon's failure rather than fetch's "terminated". */
  async * #body (body: AsyncIterable<Uint8Array>, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    try {
      yield * body
    } catch (err) {
      if (signal?.aborted === true) throw new ShoalError('ERR_ABORTED', 'interrupted', { cause: err })
      throw new ShoalError('ERR_DAEMON', `the daemon at ${this.#address} cut the transfer short (a chunk could not be read or verified, or the daemon stopped); see its log under DEBUG=shoal:api*`, { cause: err })
    }
  }

  async ls (): Promise<ContentInfo[]> {
    return (await this.#call<{ contents: ContentInfo[] }>('GET', '/v1/contents')).contents
  }

  async status (): Promise<NodeStatus> {
    return await this.#call<NodeStatus>('GET', '/v1/status')
  }

  async remove (cid: string): Promise<void> {
    await this.#call('DELETE', `/v1/contents/${encodeURIComponent(cid)}`)
  }

  async pin (cid: string): Promise<void> {
    await this.#call('POST', `/v1/contents/${encodeURIComponent(cid)}/pin`, {})
  }

  async unpin (cid: string): Promise<void> {
    await this.#call('DELETE', `/v1/contents/${encodeURIComponent(cid)}/pin`)
  }

  async gc (options: GcOptions = {}): Promise<GcReport> {
    return await this.#call<GcReport>('POST', '/v1/gc', { dryRun: options.dryRun === true }, options.signal)
  }

  async #call<T> (method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.#send(method, path, body, signal, {}, true)
    const text = await res.text()
    let parsed: unknown
    try { parsed = JSON.parse(text) } catch { parsed = undefined }
    if (!res.ok) this.#throwFor(res, parsed)
    return parsed as T
  }

  async #send (method: string, path: string, body: unknown, signal: AbortSignal | undefined, extra: Record<string, string>, bounded: boolean): Promise<Response> {
    // the same OS user can read the daemon's 0600 token file: no flag needed
    this.#token ??= readTokenFile(this.#tokenFile)
    const token = await this.#token
    this.#sentToken = token !== undefined
    const timeout = bounded ? AbortSignal.timeout(REQUEST_TIMEOUT_MS) : undefined
    const signals = [signal, timeout].filter(s => s !== undefined)
    try {
      return await fetch(this.#base + path, {
        method,
        headers: {
          ...extra,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` })
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signals.length === 0 ? undefined : AbortSignal.any(signals)
      })
    } catch (err) {
      if (signal?.aborted === true) throw new ShoalError('ERR_ABORTED', 'interrupted', { cause: err })
      throw new ShoalError('ERR_DAEMON', `no shoal daemon answers at ${this.#address}; start one with \`shoal daemon\` or unset SHOAL_API to run standalone`, { cause: err })
    }
  }

  async #fail (res: Response): Promise<never> {
    const text = await res.text()
    let parsed: unknown
    try { parsed = JSON.parse(text) } catch { parsed = undefined }
    this.#throwFor(res, parsed)
  }

  #throwFor (res: Response, parsed: unknown): never {
    const error = (parsed as { error?: { code?: string, message?: string } } | undefined)?.error
    if (res.status === 401 && !this.#sentToken) {
      throw new ShoalError(isErrorCode(error?.code) ? error.code : ErrorCode.UNAUTHORIZED, `the daemon at ${this.#address} wants a token and none was found: set SHOAL_API_TOKEN, or point SHOAL_DATA_DIR (--data-dir) at the daemon's data dir (looked for ${this.#tokenFile})`)
    }
    throw new ShoalError(isErrorCode(error?.code) ? error.code : ErrorCode.DAEMON, error?.message ?? `daemon answered HTTP ${res.status}`)
  }
}

async function * emptyStream (): AsyncGenerator<Uint8Array> {}
