import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCode, isErrorCode, ShoalError } from '../errors.js'
import type { ShoalApi } from '../node/shoal-api.js'
import type { AddOptions, AddResult, ContentInfo, ContentRead, GcOptions, GcReport, GetOptions, GetResult, NodeStatus, ReadOptions } from '../node/types.js'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { POLL_INTERVAL_MS, REQUEST_TIMEOUT_MS } from './constants.js'
import { parseAddress } from './parse-address.js'
import { readTokenFile, tokenFileIn } from './api-token.js'

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

  async get (cid: string, options: GetOptions = {}): Promise<GetResult> {
    const { resolve } = await import('node:path')
    const started = Date.now()
    await this.#call('POST', '/v1/downloads', { cid, out: resolve(options.out ?? '.'), ...(options.overwrite === true ? { overwrite: true } : {}) }, options.signal)
    for (;;) {
      const info = await this.#call<ContentInfo>('GET', `/v1/contents/${encodeURIComponent(cid)}`, undefined, options.signal)
      options.onProgress?.({
        cid,
        have: info.have,
        total: info.chunks,
        bytes: info.chunks === 0 ? info.size : Math.min(info.size, info.have * info.chunkSize),
        totalBytes: info.size,
        rateBps: 0,
        peers: info.peers
      })
      if (info.state === 'error') throw new ShoalError(isErrorCode(info.errorCode) ? info.errorCode : ErrorCode.DAEMON, info.error ?? 'the daemon reported an error')
      if (info.state === 'complete' || info.state === 'seeding') {
        return { cid, path: info.path, size: info.size, fetchedChunks: info.chunks, elapsedMs: Date.now() - started, received: info.received, ...(info.peerShare === undefined ? {} : { peerShare: info.peerShare }) }
      }
      await sleep(POLL_INTERVAL_MS, undefined, { signal: options.signal }).catch(() => {
        throw new ShoalError('ERR_ABORTED', 'stopped waiting; the daemon keeps downloading (shoal cancel to stop it)')
      })
    }
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
