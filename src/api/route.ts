import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ShoalNode } from '../node/shoal-node.js'
import type { PathPolicy } from './path-policy.js'

/** What a route handler gets: the node it serves, the request, its response and the path's captures. */
export interface RouteContext {
  node: ShoalNode
  req: IncomingMessage
  /** For handlers that answer with something other than JSON (a stream, events, a page). */
  res: ServerResponse
  /** The pattern's captures, %-decoded. */
  params: string[]
  paths: PathPolicy
}

/**
 * A JSON answer as [status, body], or `'sent'` when the handler wrote the response itself
 * (it then owns headers, body and ending it).
 */
export type RouteResult = readonly [number, unknown] | 'sent'

/** One entry of the control API's route table. */
export interface Route {
  method: string
  pattern: RegExp
  /** Served without the bearer token (GET /v1/health, and the dashboard login whose link secret is its credential). */
  public?: boolean
  /**
   * A GET route the dashboard reads: a valid dashboard session cookie is taken in place of the
   * bearer token. Never set on a route that changes state.
   */
  cookie?: boolean
  handle: (ctx: RouteContext) => Promise<RouteResult>
}
