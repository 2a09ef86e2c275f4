import { isIPv4 } from 'node:net'
import type { IncomingHttpHeaders } from 'node:http'
import { ShoalError } from '../util/shoal-error.js'
import { ApiErrorCode } from './api-errors.js'

export interface RequestGuardInit {
  /** Host names or addresses (no port) the API answers to besides loopback, e.g. the bound address. */
  allowHosts?: string[]
  /** Browser origins (`scheme://host[:port]`) allowed to call the API; CORS is on only for these. */
  allowOrigins?: string[]
}

/** Lower-cases a host name and strips the port and IPv6 brackets: `[::1]:7070` -> `::1`. */
export function hostWithoutPort (host: string): string {
  const h = host.trim().toLowerCase()
  const v6 = /^\[([^\]]*)\](?::\d*)?$/.exec(h)
  if (v6 !== null) return v6[1]!
  const colon = h.lastIndexOf(':')
  return colon === -1 ? h : h.slice(0, colon)
}

/** True for a Host name every browser resolves to this machine without asking DNS. */
export function isLoopbackName (host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'))
}

/** `https://Example.com:443/` -> `https://example.com:443`: origins compare as browsers send them. */
export function normalizeOrigin (origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '')
}

/**
 * The browser-facing checks of the control API, done before anything else with a request. A web page
 * in a local browser can send requests to 127.0.0.1 (no-cors POSTs, form posts) and, after rebinding
 * its own DNS name to 127.0.0.1, read the answers; these checks refuse both without relying on the
 * token alone.
 */
export class RequestGuard {
  readonly #hosts: Set<string>
  readonly #origins: Set<string>

  constructor (init: RequestGuardInit = {}) {
    this.#hosts = new Set((init.allowHosts ?? []).map(hostWithoutPort).filter(h => h !== ''))
    this.#origins = new Set((init.allowOrigins ?? []).map(normalizeOrigin).filter(o => o !== ''))
  }

  /** True when CORS answers are on for this origin. */
  allowsOrigin (origin: string | undefined): origin is string {
    return origin !== undefined && this.#origins.has(normalizeOrigin(origin))
  }

  /**
   * Throws ERR_FORBIDDEN_HOST / ERR_FORBIDDEN_ORIGIN / ERR_UNSUPPORTED_MEDIA_TYPE for a request that
   * must not be served. `ownOrigin`: the daemon's own origin is accepted (the dashboard's GET routes).
   */
  check (headers: IncomingHttpHeaders, options: { ownOrigin?: boolean } = {}): void {
    const host = headers.host
    if (host === undefined || host === '') {
      throw new ShoalError(ApiErrorCode.FORBIDDEN_HOST, 'the request has no Host header; send Host: 127.0.0.1:<port>')
    }
    const name = hostWithoutPort(host)
    if (!isLoopbackName(name) && !this.#hosts.has(name)) {
      throw new ShoalError(ApiErrorCode.FORBIDDEN_HOST, `Host "${host}" is not this daemon's address; a web page may be using DNS rebinding. Add the name to SHOAL_API_ALLOW_HOSTS (--api-allow-hosts) if you call the API by it`)
    }
    const origin = headers.origin
    // The dashboard's module script and EventSource send the daemon's own origin. A Host that passed
    // the check above makes that origin this daemon's, never a rebinding page's (whose Host is its
    // own name) nor another local server's (another port). Accepted only where the caller says so.
    const own = options.ownOrigin === true && origin !== undefined && normalizeOrigin(origin) === `http://${host.trim().toLowerCase()}`
    if (origin !== undefined && !own && !this.allowsOrigin(origin)) {
      throw new ShoalError(ApiErrorCode.FORBIDDEN_ORIGIN, `requests from the web page at ${origin} are refused; list its origin in SHOAL_API_ALLOW_ORIGINS (--api-allow-origins) to allow it`)
    }
    // browsers omit Origin on some requests (e.g. same-origin GETs in old engines); Fetch Metadata still says where they come from
    const site = headers['sec-fetch-site']
    if (origin === undefined && (site === 'cross-site' || site === 'same-site')) {
      throw new ShoalError(ApiErrorCode.FORBIDDEN_ORIGIN, `a ${site} request from a web page is refused; list its origin in SHOAL_API_ALLOW_ORIGINS (--api-allow-origins) to allow it`)
    }
    // any method: a body the API would read must be JSON, which no form or no-cors fetch can send
    if (hasBody(headers)) {
      const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
      if (type !== 'application/json') {
        throw new ShoalError(ApiErrorCode.UNSUPPORTED_MEDIA_TYPE, `request bodies must be sent as Content-Type: application/json (got "${headers['content-type'] ?? ''}")`)
      }
    }
  }
}

function hasBody (headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true
  const length = headers['content-length']
  return length !== undefined && length !== '0'
}
