import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { timingSafeEqual } from 'node:crypto'
import { logger } from '@libp2p/logger'
import { isShoalError, ShoalError } from '../util/shoal-error.js'
import type { ShoalNode } from '../node/shoal-node.js'
import { MAX_BODY_BYTES } from './constants.js'
import { isLoopbackHost, parseAddress } from './parse-address.js'
import { NodeMetrics } from './node-metrics.js'

const log = logger('shoal:api')

export interface ControlServerInit {
  /** host:port to bind. */
  address: string
  /** Bearer token; required when binding a non-loopback address. */
  token?: string
}

type Handler = (node: ShoalNode, req: IncomingMessage, params: string[]) => Promise<[number, unknown]>

/**
 * The daemon's HTTP+JSON control API (see docs/control-api.md). It only translates HTTP to calls on
 * a ShoalNode; every rule about content lives in the node.
 */
export class ControlServer {
  readonly #host: string
  readonly #port: number
  readonly #token: string | undefined
  #server?: Server
  #metrics?: NodeMetrics

  constructor (init: ControlServerInit) {
    const { host, port } = parseAddress(init.address)
    this.#host = host
    this.#port = port
    this.#token = init.token === '' ? undefined : init.token
    if (!isLoopbackHost(host) && this.#token === undefined) {
      throw new ShoalError('ERR_BAD_CONFIG', `the control API on ${init.address} would be reachable from other machines; set SHOAL_API_TOKEN (--api-token) or bind 127.0.0.1`)
    }
  }

  /** Starts serving `node`; returns the base URL. */
  async start (node: ShoalNode): Promise<string> {
    this.#metrics = new NodeMetrics(node)
    const server = createServer((req, res) => { void this.#serve(node, req, res) })
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        reject(err.code === 'EADDRINUSE'
          ? new ShoalError('ERR_PORT_IN_USE', `control API port ${this.#host}:${this.#port} is in use; is a daemon already running? choose another with --api`)
          : err)
      })
      server.listen(this.#port, this.#host, () => { resolve() })
    })
    const address = server.address()
    const port = typeof address === 'object' && address !== null ? address.port : this.#port
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host
    return `http://${host}:${port}`
  }

  async stop (): Promise<void> {
    const server = this.#server
    this.#server = undefined
    if (server === undefined) return
    server.closeAllConnections()
    await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  }

  async #serve (node: ShoalNode, req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost')
      if (url.pathname === '/metrics' && req.method === 'GET') {
        this.#authorize(req)
        const text = await this.#metrics!.render()
        res.writeHead(200, { 'content-type': this.#metrics!.contentType })
        res.end(text)
        return
      }
      const route = this.#route(req.method ?? 'GET', url.pathname)
      if (route === undefined) {
        send(res, 404, { error: { code: 'ERR_NO_ROUTE', message: `no route ${req.method} ${url.pathname}; see docs/control-api.md` } })
        return
      }
      if (route.handler !== health) this.#authorize(req)
      const [status, body] = await route.handler(node, req, route.params)
      send(res, status, body)
    } catch (err) {
      const status = statusFor(err)
      if (status >= 500) log.error('control API request failed: %e', err)
      send(res, status, { error: { code: isShoalError(err) ? err.code : 'ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) } })
    }
  }

  #authorize (req: IncomingMessage): void {
    if (this.#token === undefined) return
    const given = Buffer.from(req.headers.authorization ?? '')
    const wanted = Buffer.from(`Bearer ${this.#token}`)
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      throw new ShoalError('ERR_UNAUTHORIZED', 'missing or wrong API token; send Authorization: Bearer <SHOAL_API_TOKEN>')
    }
  }

  #route (method: string, path: string): { handler: Handler, params: string[] } | undefined {
    for (const [m, pattern, handler] of ROUTES) {
      if (m !== method) continue
      const match = pattern.exec(path)
      if (match !== null) return { handler, params: match.slice(1).map(decodeURIComponent) }
    }
    return undefined
  }
}

const health: Handler = async node => {
  const status = await node.status()
  return [200, { ok: true, peerId: status.peerId, peers: status.peers, contents: status.contents, uptimeMs: status.uptimeMs }]
}

const ROUTES: Array<[string, RegExp, Handler]> = [
  ['GET', /^\/v1\/health$/, health],
  ['GET', /^\/v1\/status$/, async node => [200, await node.status()]],
  ['GET', /^\/v1\/contents$/, async node => [200, { contents: await node.ls() }]],
  ['GET', /^\/v1\/contents\/([^/]+)$/, async (node, _req, [cid]) => {
    const info = (await node.ls()).find(c => c.cid === cid)
    if (info === undefined) throw new ShoalError('ERR_NOT_FOUND', `this node has no content ${cid}`)
    return [200, info]
  }],
  ['POST', /^\/v1\/contents$/, async (node, req) => {
    const body = await readJson(req)
    const path = requireString(body, 'path')
    const chunkSize = body.chunkSize === undefined ? undefined : requireNumber(body, 'chunkSize')
    return [201, await node.add(path, { chunkSize })]
  }],
  ['POST', /^\/v1\/downloads$/, async (node, req) => {
    const body = await readJson(req)
    const cid = requireString(body, 'cid')
    const out = requireString(body, 'out')
    return [202, await node.startGet(cid, { out })]
  }],
  ['DELETE', /^\/v1\/contents\/([^/]+)$/, async (node, _req, [cid]) => {
    await node.remove(cid!)
    return [200, { cid, removed: true }]
  }]
]

async function readJson (req: IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = []
  let size = 0
  for await (const part of req) {
    size += (part as Buffer).length
    if (size > MAX_BODY_BYTES) throw new ShoalError('ERR_BAD_REQUEST', `request body over ${MAX_BODY_BYTES} bytes`)
    parts.push(part as Buffer)
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(parts).toString('utf8'))
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object')
    return value as Record<string, unknown>
  } catch {
    throw new ShoalError('ERR_BAD_REQUEST', 'request body must be a JSON object')
  }
}

function requireString (body: Record<string, unknown>, key: string): string {
  const v = body[key]
  if (typeof v !== 'string' || v === '') throw new ShoalError('ERR_BAD_REQUEST', `"${key}" must be a non-empty string`)
  return v
}

function requireNumber (body: Record<string, unknown>, key: string): number {
  const v = body[key]
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ShoalError('ERR_BAD_REQUEST', `"${key}" must be a number`)
  return v
}

function statusFor (err: unknown): number {
  if (!isShoalError(err)) return 500
  switch (err.code) {
    case 'ERR_UNAUTHORIZED': return 401
    case 'ERR_NOT_FOUND': return 404
    case 'ERR_DISK_FULL': return 507
    case 'ERR_BAD_REQUEST': case 'ERR_BAD_CID': case 'ERR_BAD_CONFIG': case 'ERR_BAD_CHUNK_SIZE':
    case 'ERR_UNREADABLE': case 'ERR_NOT_WRITABLE': case 'ERR_UNSAFE_PATH':
      return 400
    case 'ERR_ALREADY_EXISTS': return 409
    default: return 500
  }
}

function send (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
