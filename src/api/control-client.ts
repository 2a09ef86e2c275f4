import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCode, isErrorCode, ShoalError } from '../errors.js'
import type { ShoalApi } from '../node/shoal-api.js'
import type { AddOptions, AddResult, ContentInfo, GcOptions, GcReport, GetOptions, GetResult, NodeStatus } from '../node/types.js'
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
    // the same OS user can read the daemon's 0600 token file: no flag needed
    this.#token ??= readTokenFile(this.#tokenFile)
    const token = await this.#token
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS)
    let res: Response
    try {
      res = await fetch(this.#base + path, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` })
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout])
      })
    } catch (err) {
      if (signal?.aborted === true) throw new ShoalError('ERR_ABORTED', 'interrupted', { cause: err })
      throw new ShoalError('ERR_DAEMON', `no shoal daemon answers at ${this.#address}; start one with \`shoal daemon\` or unset SHOAL_API to run standalone`, { cause: err })
    }
    const text = await res.text()
    let parsed: unknown
    try { parsed = JSON.parse(text) } catch { parsed = undefined }
    if (!res.ok) {
      const error = (parsed as { error?: { code?: string, message?: string } } | undefined)?.error
      if (res.status === 401 && token === undefined) {
        throw new ShoalError(isErrorCode(error?.code) ? error.code : ErrorCode.UNAUTHORIZED, `the daemon at ${this.#address} wants a token and none was found: set SHOAL_API_TOKEN, or point SHOAL_DATA_DIR (--data-dir) at the daemon's data dir (looked for ${this.#tokenFile})`)
      }
      throw new ShoalError(isErrorCode(error?.code) ? error.code : ErrorCode.DAEMON, error?.message ?? `daemon answered HTTP ${res.status}`)
    }
    return parsed as T
  }
}
