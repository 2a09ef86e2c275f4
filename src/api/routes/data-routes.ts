import type { IncomingMessage, ServerResponse } from 'node:http'
import { logger } from '@libp2p/logger'
import { ShoalError } from '../../errors.js'
import type { ReadTarget } from '../../node/types.js'
import { API_IDLE_SOCKET_TIMEOUT_MS, DATA_FIND_TIMEOUT_MS } from '../constants.js'
import { parseRange } from '../../util/parse-range.js'
import type { Route, RouteContext, RouteResult } from '../route.js'

const log = logger('shoal:api:data')

export interface DataRouteOptions {
  /** How long a request looks for a provider of a content not held (default DATA_FIND_TIMEOUT_MS). */
  findTimeoutMs?: number
  /** The server's idle-socket bound, restored once a data answer is over (default API_IDLE_SOCKET_TIMEOUT_MS). */
  idleTimeoutMs?: number
}

/**
 * The HTTP data plane (docs/control-api.md, "Data plane"): `GET`/`HEAD /v1/data/{cid}` for a one-file
 * content and `/v1/data/{cid}/{path}` for a file inside a folder content, with Range, ETag and
 * If-None-Match. Same token and browser checks as every other route: a web page cannot read it.
 */
export function dataRoutes (options: DataRouteOptions = {}): Route[] {
  const settings = { findTimeoutMs: options.findTimeoutMs ?? DATA_FIND_TIMEOUT_MS, idleTimeoutMs: options.idleTimeoutMs ?? API_IDLE_SOCKET_TIMEOUT_MS }
  const handle = (head: boolean) => async (ctx: RouteContext): Promise<RouteResult> => await serveData(ctx, head, settings)
  return [
    { method: 'GET', pattern: /^\/v1\/data\/([^/]+)$/, handle: handle(false) },
    { method: 'GET', pattern: /^\/v1\/data\/([^/]+)\/(.+)$/, handle: handle(false) },
    { method: 'HEAD', pattern: /^\/v1\/data\/([^/]+)$/, handle: handle(true) },
    { method: 'HEAD', pattern: /^\/v1\/data\/([^/]+)\/(.+)$/, handle: handle(true) }
  ]
}

async function serveData ({ node, req, res, params: [cid, path] }: RouteContext, head: boolean, { findTimeoutMs, idleTimeoutMs }: Required<DataRouteOptions>): Promise<RouteResult> {
  // A client that goes away ends its read; the download it started goes on (ContentReader).
  const gone = new AbortController()
  res.once('close', () => { gone.abort(new ShoalError('ERR_ABORTED', 'the HTTP client went away')) })
  // Waiting for a content's first chunks can exceed the idle-socket bound meant for slow-loris; this
  // client has shown the token, and it is the one waiting.
  req.socket.setTimeout(0)
  res.once('finish', () => { req.socket.setTimeout(idleTimeoutMs) })
  const target = await node.stat(cid!, { path, signal: gone.signal, findTimeoutMs })
  // leased from the answer to stat until the response is over, so nothing evicts it in between
  const release = node.leases.acquire(target.cid)
  res.once('close', release)
  setEntityHeaders(res, target)
  if (matchesEtag(req.headers['if-none-match'], target.etag)) {
    res.writeHead(304)
    res.end()
    return 'sent'
  }
  const range = rangeOf(req, target)
  if (range === 'unsatisfiable') {
    res.setHeader('content-range', `bytes */${target.size}`)
    throw new ShoalError('ERR_RANGE_NOT_SATISFIABLE', `the Range ${req.headers.range ?? ''} lies past the end of ${target.name} (${target.size} bytes); ask for bytes below ${target.size}`)
  }
  const start = range?.start ?? 0
  const end = range?.end ?? target.size - 1
  res.setHeader('content-length', String(end - start + 1))
  if (range !== undefined) res.setHeader('content-range', `bytes ${start}-${end}/${target.size}`)
  const status = range === undefined ? 200 : 206
  if (head) {
    res.writeHead(status)
    res.end()
    return 'sent'
  }
  const read = await node.read(cid!, { path, start, end, signal: gone.signal, findTimeoutMs })
  res.writeHead(status)
  // the headers go now: a client waiting for a content still being fetched sees the answer start
  res.flushHeaders()
  try {
    for await (const part of read.stream) {
      if (!res.write(part)) await drained(res)
      if (gone.signal.aborted) break
    }
    res.end()
  } catch (err) {
    // the status line is out: the only honest way left to say "failed" is a cut connection
    if (!gone.signal.aborted) log('read of %s%s failed after the headers were sent: %s', cid, path === undefined ? '' : `/${path}`, err instanceof Error ? err.message : String(err))
    res.destroy()
  }
  return 'sent'
}

function setEntityHeaders (res: ServerResponse, target: ReadTarget): void {
  res.setHeader('content-type', 'application/octet-stream')
  res.setHeader('accept-ranges', 'bytes')
  res.setHeader('etag', target.etag)
  res.setHeader('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(target.name)}`)
}

/** The single range to answer, undefined for the whole file, or 'unsatisfiable' (416). */
function rangeOf (req: IncomingMessage, target: ReadTarget): { start: number, end: number } | undefined | 'unsatisfiable' {
  const header = req.headers.range
  if (header === undefined) return undefined
  // If-Range with another validator: the client's partial copy is of other bytes, so send them all
  const ifRange = req.headers['if-range']
  if (typeof ifRange === 'string' && ifRange.trim() !== target.etag) return undefined
  return parseRange(header, target.size)
}

/** True when an If-None-Match list names `etag` (weak comparison, as RFC 9110 asks for it) or is `*`. */
function matchesEtag (header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  return header.split(',').map(t => t.trim().replace(/^W\//, '')).some(t => t === '*' || t === etag)
}

/** Resolves once `res` can take more bytes, or is closed (the loop then stops on the abort). */
async function drained (res: ServerResponse): Promise<void> {
  await new Promise<void>(resolve => {
    const done = (): void => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}
