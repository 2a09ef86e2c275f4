import type { ServerResponse } from 'node:http'
import { ShoalError } from '../../errors.js'
import { ApiErrorCode } from '../api-errors.js'
import { DASHBOARD_PAGE } from '../dashboard/dashboard-page.js'
import { DASHBOARD_SCRIPT } from '../dashboard/dashboard-script.js'
import type { DashboardSessions } from '../dashboard-sessions.js'
import type { Route } from '../route.js'

/** Where `shoal dashboard`'s link lands, and where it then redirects. */
export const DASHBOARD_LOGIN_PATH = '/dashboard/login'
export const DASHBOARD_PATH = '/dashboard'

// the page loads only its own script and talks only to its own origin; no page may frame it
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer'
}

/** The dashboard: a one-time link that becomes a cookie, the page, its script and its data. */
export function dashboardRoutes (sessions: DashboardSessions): Route[] {
  return [
    {
      method: 'POST',
      pattern: /^\/v1\/dashboard\/links$/,
      handle: async () => {
        const { secret, expiresInMs } = sessions.issueLink()
        return [201, { path: `${DASHBOARD_LOGIN_PATH}?token=${secret}`, expiresInMs }]
      }
    },
    {
      method: 'GET',
      pattern: /^\/dashboard\/login$/,
      // the link's one-time secret is the credential here
      public: true,
      handle: async ({ req, res }) => {
        const secret = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token') ?? ''
        const session = secret === '' ? undefined : sessions.redeem(secret)
        if (session === undefined) {
          throw new ShoalError(ApiErrorCode.UNAUTHORIZED, 'this dashboard link is unknown, used already or expired; run `shoal dashboard` for a new one')
        }
        // redirected to a URL without the secret, so it stays in no history, bookmark or referrer
        res.writeHead(303, { location: DASHBOARD_PATH, 'set-cookie': sessions.cookie(session), 'referrer-policy': 'no-referrer' })
        res.end()
        return 'sent'
      }
    },
    {
      method: 'GET',
      pattern: /^\/dashboard$/,
      cookie: true,
      handle: async ({ res }) => { sendText(res, 'text/html; charset=utf-8', DASHBOARD_PAGE); return 'sent' }
    },
    {
      method: 'GET',
      pattern: /^\/dashboard\/app\.js$/,
      cookie: true,
      handle: async ({ res }) => { sendText(res, 'text/javascript; charset=utf-8', DASHBOARD_SCRIPT); return 'sent' }
    },
    {
      method: 'GET',
      pattern: /^\/v1\/dashboard\/state$/,
      cookie: true,
      handle: async ({ node }) => {
        const [status, contents] = await Promise.all([node.status(), node.ls()])
        const details = await Promise.all(contents.map(async c => await node.contentDetail(c.cid).catch(() => undefined)))
        return [200, { status, contents: details.filter(d => d !== undefined) }]
      }
    }
  ]
}

function sendText (res: ServerResponse, type: string, text: string): void {
  res.writeHead(200, { ...PAGE_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
