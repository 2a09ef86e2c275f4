import { randomBytes } from 'node:crypto'
import { DASHBOARD_COOKIE, DASHBOARD_LINK_TTL_MS, DASHBOARD_SESSION_TTL_MS, MAX_DASHBOARD_LINKS, MAX_DASHBOARD_SESSIONS, TOKEN_BYTES } from './constants.js'
import { tokensEqual } from './api-token.js'

export interface DashboardSessionsInit {
  linkTtlMs?: number
  sessionTtlMs?: number
  now?: () => number
}

/**
 * How a browser gets into the dashboard without the API token ever sitting in a URL or in page
 * script: `shoal dashboard` asks (with the token) for a link holding a one-time secret that expires
 * within a minute; opening it trades the secret for an HttpOnly, SameSite=Strict session cookie.
 * The cookie only opens the dashboard's GET routes (see Route.cookie), never a state-changing one.
 */
export class DashboardSessions {
  readonly #links = new Map<string, number>()
  readonly #sessions = new Map<string, number>()
  readonly #linkTtl: number
  readonly #sessionTtl: number
  readonly #now: () => number

  constructor (init: DashboardSessionsInit = {}) {
    this.#linkTtl = init.linkTtlMs ?? DASHBOARD_LINK_TTL_MS
    this.#sessionTtl = init.sessionTtlMs ?? DASHBOARD_SESSION_TTL_MS
    this.#now = init.now ?? Date.now
  }

  /** Seconds a session cookie lives (its Max-Age). */
  get sessionTtlS (): number {
    return Math.floor(this.#sessionTtl / 1000)
  }

  /** A new one-time link secret, valid for the link TTL. */
  issueLink (): { secret: string, expiresInMs: number } {
    const secret = randomBytes(TOKEN_BYTES).toString('base64url')
    remember(this.#links, secret, this.#now() + this.#linkTtl, MAX_DASHBOARD_LINKS)
    return { secret, expiresInMs: this.#linkTtl }
  }

  /** Spends a link secret: a new session id when it was issued, unused and unexpired. */
  redeem (secret: string): string | undefined {
    const key = find(this.#links, secret)
    if (key === undefined) return undefined
    const expires = this.#links.get(key)!
    this.#links.delete(key)
    if (expires < this.#now()) return undefined
    const session = randomBytes(TOKEN_BYTES).toString('base64url')
    remember(this.#sessions, session, this.#now() + this.#sessionTtl, MAX_DASHBOARD_SESSIONS)
    return session
  }

  /** True when the Cookie header carries a live dashboard session. */
  valid (cookieHeader: string | undefined): boolean {
    const given = cookieValue(cookieHeader, DASHBOARD_COOKIE)
    if (given === undefined) return false
    const key = find(this.#sessions, given)
    if (key === undefined) return false
    if (this.#sessions.get(key)! < this.#now()) {
      this.#sessions.delete(key)
      return false
    }
    return true
  }

  /** The Set-Cookie header value for `session`. */
  cookie (session: string): string {
    return `${DASHBOARD_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${this.sessionTtlS}`
  }
}

function remember (map: Map<string, number>, key: string, expires: number, max: number): void {
  while (map.size >= max) map.delete(map.keys().next().value!)
  map.set(key, expires)
}

// compared in constant time, like the API token: a timing side channel must not reveal a prefix
function find (map: Map<string, number>, given: string): string | undefined {
  for (const key of map.keys()) if (tokensEqual(given, key)) return key
  return undefined
}

/** The value of cookie `name` in a Cookie header, if present. */
export function cookieValue (header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}
