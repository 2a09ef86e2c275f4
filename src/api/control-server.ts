import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { isIP } from 'node:net'
import { homedir } from 'node:os'
import { logger } from '@libp2p/logger'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { Registry } from 'prom-client'
import type { ServiceFactory } from '../net/index.js'
import { ErrorCode, isShoalError, ShoalError } from '../errors.js'
import type { ShoalNode } from '../node/shoal-node.js'
import {
  API_CONNECTIONS_CHECK_INTERVAL_MS, API_HEADERS_TIMEOUT_MS, API_IDLE_SOCKET_TIMEOUT_MS, API_KEEP_ALIVE_TIMEOUT_MS, API_REQUEST_TIMEOUT_MS,
  CORS_MAX_AGE_S, MAX_API_CONNECTIONS
} from './constants.js'
import { ApiErrorCode } from './api-errors.js'
import { statusFor } from './http-status.js'
import { loadOrCreateToken, tokenFileIn, tokensEqual } from './api-token.js'
import { parseAddress } from './parse-address.js'
import { PathPolicy } from './path-policy.js'
import { RequestGuard } from './request-guard.js'
import { isLoopbackAddress, resolveApiHost, type HostLookup, type ResolvedApiHost } from './resolve-api-host.js'
import { NodeMetrics } from './node-metrics.js'
import type { Route } from './route.js'
import { cacheRoutes } from './routes/cache-routes.js'
import { contentRoutes } from './routes/content-routes.js'
import { dashboardRoutes } from './routes/dashboard-routes.js'
import { eventRoutes } from './routes/event-routes.js'
import { DashboardSessions } from './dashboard-sessions.js'
import { EventStreams } from './event-stream.js'
import { dataRoutes } from './routes/data-routes.js'
import { metricsRoutes } from './routes/metrics-routes.js'

const log = logger('shoal:api')

export interface ControlServerInit {
  /** host:port to bind. */
  address: string
  /** Bearer token (SHOAL_API_TOKEN); required when the address is not loopback. */
  token?: string
  /** With no `token`: the token file to read or create (default `<node dataDir>/api.token`). */
  tokenFile?: string
  /** Host names the API answers to besides loopback and its own address (SHOAL_API_ALLOW_HOSTS). */
  allowHosts?: string[]
  /** Browser origins allowed to call the API, with CORS (SHOAL_API_ALLOW_ORIGINS); none by default. */
  allowOrigins?: string[]
  /** Folders under which the API may add content or write downloads (default: home dir and the node's data dir). */
  allowPaths?: string[]
  /** Resolves the host of `address`; tests inject one. */
  lookup?: HostLookup
  /** Most concurrent connections (default MAX_API_CONNECTIONS). */
  maxConnections?: number
  headersTimeoutMs?: number
  requestTimeoutMs?: number
  keepAliveTimeoutMs?: number
  /** A socket with no traffic for this long is closed. */
  idleTimeoutMs?: number
  /** Most event streams (GET /v1/events) open at once (default MAX_EVENT_STREAMS). */
  maxEventStreams?: number
  /** How long a data plane request looks for a provider of a content not held (default DATA_FIND_TIMEOUT_MS). */
  dataFindTimeoutMs?: number
}

const CORS_METHODS = 'GET, POST, DELETE'
const CORS_HEADERS = 'Authorization, Content-Type'

/**
 * The daemon's HTTP+JSON control API (see docs/control-api.md). It only translates HTTP to calls on
 * a ShoalNode; every rule about content lives in the node. Every request but health needs the
 * bearer token, loopback included; browser requests are refused by Host, Origin and Content-Type.
 */
export class ControlServer {
  readonly #init: ControlServerInit
  readonly #host: string
  readonly #port: number
  readonly #explicitToken: string | undefined
  #token?: string
  #server?: Server
  #routes: Route[] = []
  #guard?: RequestGuard
  #paths?: PathPolicy
  #resolved?: ResolvedApiHost
  #metrics?: NodeMetrics
  // one per server: libp2p's own metrics (when wanted) are made before the node starts, shoal's after
  readonly #registry = new Registry()
  readonly #sessions = new DashboardSessions()

  constructor (init: ControlServerInit) {
    const { host, port } = parseAddress(init.address)
    this.#init = init
    this.#host = host
    this.#port = port
    this.#explicitToken = init.token === '' ? undefined : init.token
    // literal addresses fail here, before the node opens sockets; names are resolved in prepare()
    if (isIP(host) !== 0 && !isLoopbackAddress(host) && this.#explicitToken === undefined) throw this.#needsToken([host])
  }

  /**
   * libp2p's own metrics, exported on this server's /metrics beside shoal's: pass it as the node's
   * `libp2pMetrics` before the node starts. It never touches prom-client's global registry.
   */
  libp2pMetrics (): ServiceFactory {
    return prometheusMetrics({ registry: this.#registry, preserveExistingMetrics: true, collectDefaultMetrics: false }) as ServiceFactory
  }

  /** The bearer token in force (known once start() has run). */
  get token (): string | undefined { return this.#token }

  /**
   * Resolves the API host and loads (or creates) the token, so a bad setup fails before the node
   * opens any socket; start() does it itself when it was not called.
   */
  async prepare (dataDir: string): Promise<void> {
    const resolved = await resolveApiHost(this.#host, this.#init.lookup).catch((err: unknown) => {
      throw new ShoalError('ERR_BAD_CONFIG', `control API host "${this.#host}" does not resolve (${(err as Error).message}); use an IP address such as 127.0.0.1`, { cause: err })
    })
    if (!resolved.loopback && this.#explicitToken === undefined) throw this.#needsToken(resolved.addresses)
    this.#token = this.#explicitToken ?? await loadOrCreateToken(this.#init.tokenFile ?? tokenFileIn(dataDir))
    this.#resolved = resolved
  }

  /** Starts serving `node`; returns the base URL. */
  async start (node: ShoalNode): Promise<string> {
    if (this.#resolved === undefined) await this.prepare(node.init.dataDir)
    const resolved = this.#resolved!
    this.#guard = new RequestGuard({
      allowHosts: [...(this.#init.allowHosts ?? []), this.#host, ...resolved.addresses],
      allowOrigins: this.#init.allowOrigins
    })
    this.#paths = new PathPolicy(this.#init.allowPaths ?? [homedir(), node.init.dataDir])
    this.#metrics = new NodeMetrics(node, this.#registry)
    this.#routes = [
      ...contentRoutes,
      ...metricsRoutes(this.#metrics),
      ...eventRoutes(new EventStreams({ maxStreams: this.#init.maxEventStreams })),
      ...cacheRoutes,
      ...dashboardRoutes(this.#sessions),
      ...dataRoutes({ findTimeoutMs: this.#init.dataFindTimeoutMs, idleTimeoutMs: this.#init.idleTimeoutMs })
    ]

    const headersTimeout = this.#init.headersTimeoutMs ?? API_HEADERS_TIMEOUT_MS
    const requestTimeout = Math.max(this.#init.requestTimeoutMs ?? API_REQUEST_TIMEOUT_MS, headersTimeout)
    const server = createServer({
      headersTimeout,
      requestTimeout,
      keepAliveTimeout: this.#init.keepAliveTimeoutMs ?? API_KEEP_ALIVE_TIMEOUT_MS,
      // the two timeouts above are only enforced at this interval (30 s by default)
      connectionsCheckingInterval: Math.min(headersTimeout, API_CONNECTIONS_CHECK_INTERVAL_MS)
    }, (req, res) => { void this.#serve(node, req, res) })
    server.maxConnections = this.#init.maxConnections ?? MAX_API_CONNECTIONS
    // with no 'timeout' listener Node destroys the socket: idle TCP connections cannot pile up
    server.setTimeout(this.#init.idleTimeoutMs ?? API_IDLE_SOCKET_TIMEOUT_MS)
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        reject(err.code === 'EADDRINUSE'
          ? new ShoalError('ERR_PORT_IN_USE', `control API port ${this.#host}:${this.#port} is in use; is a daemon already running? choose another with --api`)
          : err)
      })
      server.listen(this.#port, resolved.address, () => { resolve() })
    })
    const address = server.address()
    const port = typeof address === 'object' && address !== null ? address.port : this.#port
    const host = resolved.address.includes(':') ? `[${resolved.address}]` : resolved.address
    return `http://${host}:${port}`
  }

  async stop (): Promise<void> {
    this.#metrics?.close()
    this.#metrics = undefined
    const server = this.#server
    this.#server = undefined
    if (server === undefined) return
    server.closeAllConnections()
    await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  }

  #needsToken (addresses: string[]): ShoalError {
    return new ShoalError('ERR_BAD_CONFIG', `the control API on ${this.#init.address} (${addresses.join(', ')}) would be reachable from other machines; set SHOAL_API_TOKEN (--api-token) or bind 127.0.0.1`)
  }

  async #serve (node: ShoalNode, req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('x-content-type-options', 'nosniff')
    res.setHeader('cache-control', 'no-store')
    try {
      const method = req.method ?? 'GET'
      // browser checks first: a refused request reaches neither the token check nor a handler
      // (a malformed URL is refused by them as well, before it is reported malformed)
      const parsed = pathOrUndefined(req.url)
      const early = parsed === undefined ? undefined : this.#route(method, parsed)
      this.#guard!.check(req.headers, { ownOrigin: early?.route.cookie === true && method === 'GET' })
      const path = pathOf(req.url)
      const match = early ?? this.#route(method, path)
      const origin = req.headers.origin
      if (this.#guard!.allowsOrigin(origin)) {
        res.setHeader('access-control-allow-origin', origin)
        res.setHeader('vary', 'Origin')
        if (req.method === 'OPTIONS') {
          res.writeHead(204, {
            'access-control-allow-methods': CORS_METHODS,
            'access-control-allow-headers': CORS_HEADERS,
            'access-control-max-age': String(CORS_MAX_AGE_S)
          })
          res.end()
          return
        }
      }
      if (match?.route.public !== true) this.#authorize(req, match?.route)
      if (match === undefined) {
        send(res, 404, { error: { code: ApiErrorCode.NO_ROUTE, message: `no route ${method} ${path}; see docs/control-api.md` } })
        return
      }
      // decoded only once authorized: a stranger's malformed URL gets 401 like any other request
      const params = match.captures.map(decodeParam)
      const result = await match.route.handle({ node, req, res, params, paths: this.#paths! })
      if (result !== 'sent') send(res, result[0], result[1])
    } catch (err) {
      const status = statusFor(err)
      if (status >= 500) log.error('control API request failed: %e', err)
      else log('refused %s %s: %s', req.method, req.url, err instanceof Error ? err.message : String(err))
      send(res, status, { error: { code: isShoalError(err) ? err.code : ErrorCode.INTERNAL, message: err instanceof Error ? err.message : String(err) } })
    }
  }

  #authorize (req: IncomingMessage, route: Route | undefined): void {
    // the dashboard's cookie opens its own GET routes only, never one that changes state
    if (route?.cookie === true && req.method === 'GET' && this.#sessions.valid(req.headers.cookie)) return
    const header = req.headers.authorization ?? ''
    const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : ''
    if (given === '' || !tokensEqual(given, this.#token!)) {
      throw new ShoalError(ApiErrorCode.UNAUTHORIZED, 'missing or wrong API token; send Authorization: Bearer <token>, the token being SHOAL_API_TOKEN or the contents of <data dir>/api.token')
    }
  }

  #route (method: string, path: string): { route: Route, captures: string[] } | undefined {
    for (const route of this.#routes) {
      if (route.method !== method) continue
      const match = route.pattern.exec(path)
      if (match !== null) return { route, captures: match.slice(1) }
    }
    return undefined
  }
}

function pathOrUndefined (url: string | undefined): string | undefined {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname
  } catch {
    return undefined
  }
}

function pathOf (url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname
  } catch {
    throw new ShoalError(ApiErrorCode.BAD_REQUEST, 'the request URL is malformed')
  }
}

function decodeParam (text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw new ShoalError(ApiErrorCode.BAD_REQUEST, `"${text}" is not valid %-encoding`)
  }
}

function send (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
