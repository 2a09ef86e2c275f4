import type { Logger } from '@libp2p/interface'
import { ShoalError } from '../util/shoal-error.js'
import { DEFAULT_TOKEN_LIFETIME_S, TOKEN_RENEW_MARGIN_MS, UPSTREAM_HEADERS_TIMEOUT_MS } from './constants.js'
import type { Credential, UpstreamCredentials } from './upstream-credentials.js'
import type { Upstream } from './upstreams.js'

export interface UpstreamRequest {
  method: 'GET' | 'HEAD'
  /** Below the repository: `manifests/latest`, `blobs/sha256:...`. */
  path: string
  accept?: string
  signal?: AbortSignal
}

interface Challenge {
  scheme: string
  params: Record<string, string>
}

/**
 * Requests to the upstream registries with their authentication: the bearer-token flow
 * (WWW-Authenticate: Bearer realm=..., as Docker Hub and GHCR use; anonymous or with a credential)
 * and basic auth. Tokens are cached per upstream and repository. No credential or token ever
 * reaches a log line, a peer or a client.
 */
export class UpstreamClient {
  readonly #credentials: UpstreamCredentials
  readonly #log: Logger
  /** `<upstream url> <repository>` -> Authorization header value and when it stops being valid. */
  readonly #auth = new Map<string, { header: string, until: number }>()

  constructor (credentials: UpstreamCredentials, log: Logger) {
    this.#credentials = credentials
    this.#log = log
  }

  /** Sends the request (answering an auth challenge once); throws ERR_UPSTREAM when it cannot reach the upstream. */
  async request (upstream: Upstream, repository: string, req: UpstreamRequest): Promise<Response> {
    const url = `${upstream.url}/v2/${repository}/${req.path}`
    const key = `${upstream.url} ${repository}`
    const cached = this.#auth.get(key)
    const first = await this.#send(url, req, cached !== undefined && cached.until > Date.now() ? cached.header : undefined)
    if (first.status !== 401) return first
    const challenge = parseChallenge(first.headers.get('www-authenticate') ?? '')
    await first.body?.cancel().catch(() => {})
    const credential = this.#credentials.for(upstream.host, upstream.url)
    const header = await this.#authorize(upstream, repository, challenge, credential, req.signal)
    if (header === undefined) return first
    this.#auth.set(key, header)
    return await this.#send(url, req, header.header)
  }

  async #send (url: string, req: UpstreamRequest, authorization: string | undefined): Promise<Response> {
    const headers: Record<string, string> = {}
    if (req.accept !== undefined) headers.accept = req.accept
    if (authorization !== undefined) headers.authorization = authorization
    // bounds the wait for the headers only: the signal also governs the body, which may take minutes
    const headersDue = new AbortController()
    const timer = setTimeout(() => { headersDue.abort(new Error('no answer in time')) }, UPSTREAM_HEADERS_TIMEOUT_MS)
    const signal = req.signal === undefined ? headersDue.signal : AbortSignal.any([req.signal, headersDue.signal])
    try {
      // fetch drops Authorization when a redirect leaves the origin (a blob store's signed URL)
      return await fetch(url, { method: req.method, headers, signal, redirect: 'follow' })
    } catch (err) {
      req.signal?.throwIfAborted()
      throw new ShoalError('ERR_UPSTREAM', `the upstream registry ${new URL(url).origin} did not answer (${causeOf(err)}); check SHOAL_UPSTREAM and that it is up`, { cause: err })
    } finally {
      clearTimeout(timer)
    }
  }

  async #authorize (upstream: Upstream, repository: string, challenge: Challenge | undefined, credential: Credential | undefined, signal?: AbortSignal): Promise<{ header: string, until: number } | undefined> {
    if (challenge === undefined) return undefined
    if (challenge.scheme === 'basic') {
      if (credential === undefined) return undefined
      return { header: basic(credential), until: Number.POSITIVE_INFINITY }
    }
    if (challenge.scheme !== 'bearer' || challenge.params.realm === undefined) return undefined
    let realm: URL
    try {
      realm = new URL(challenge.params.realm)
    } catch {
      throw new ShoalError('ERR_UPSTREAM', `the upstream ${upstream.url} sent a token realm that is not a URL`)
    }
    if (challenge.params.service !== undefined) realm.searchParams.set('service', challenge.params.service)
    realm.searchParams.set('scope', challenge.params.scope ?? `repository:${repository}:pull`)
    const headers: Record<string, string> = {}
    // a password goes only to a token service over https or on the upstream's own host, never in clear elsewhere
    if (credential !== undefined && (realm.protocol === 'https:' || realm.host === new URL(upstream.url).host)) headers.authorization = basic(credential)
    let answer: Response
    try {
      answer = await fetch(realm, { headers, signal: AbortSignal.any([signal ?? AbortSignal.timeout(UPSTREAM_HEADERS_TIMEOUT_MS), AbortSignal.timeout(UPSTREAM_HEADERS_TIMEOUT_MS)]) })
    } catch (err) {
      signal?.throwIfAborted()
      throw new ShoalError('ERR_UPSTREAM', `the token service of ${upstream.url} (${realm.origin}) did not answer (${causeOf(err)})`, { cause: err })
    }
    if (!answer.ok) {
      await answer.body?.cancel().catch(() => {})
      this.#log('token service of %s answered %d', upstream.url, answer.status)
      return undefined
    }
    const body = await answer.json().catch(() => ({})) as { token?: unknown, access_token?: unknown, expires_in?: unknown }
    const token = typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined
    if (token === undefined) throw new ShoalError('ERR_UPSTREAM', `the token service of ${upstream.url} answered no token`)
    const lifetime = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_LIFETIME_S
    return { header: `Bearer ${token}`, until: Date.now() + lifetime * 1000 - TOKEN_RENEW_MARGIN_MS }
  }
}

function basic (credential: Credential): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`
}

function causeOf (err: unknown): string {
  const cause = (err as { cause?: { code?: string, message?: string } }).cause
  return cause?.code ?? cause?.message ?? (err as Error).message
}

/** Parses `Bearer realm="https://auth",service="reg",scope="repository:x:pull"` (or `Basic realm=...`). */
export function parseChallenge (header: string): Challenge | undefined {
  const m = /^\s*(\w+)\s*(.*)$/.exec(header)
  if (m === null) return undefined
  const params: Record<string, string> = {}
  for (const p of m[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1')
  return { scheme: m[1]!.toLowerCase(), params }
}
