import { readFileSync } from 'node:fs'
import { ShoalError } from '../util/shoal-error.js'

/** A user name and password for one upstream (or all of them). Never logged, never sent to a peer. */
export interface Credential {
  username: string
  password: string
}

/**
 * Credentials for the upstreams, from SHOAL_UPSTREAM_AUTH: `user:password` (every upstream),
 * `host=user:password,...`, or the path of a docker `config.json` (its `auths` entries, `auth` being
 * base64 of user:password). Looked up by the upstream's host name (or its URL host).
 */
export class UpstreamCredentials {
  readonly #byHost: Map<string, Credential>
  readonly #all: Credential | undefined

  constructor (byHost: Map<string, Credential> = new Map(), all?: Credential) {
    this.#byHost = byHost
    this.#all = all
  }

  /** Parses SHOAL_UPSTREAM_AUTH; the message of an error never repeats the secret. */
  static parse (text: string, source = 'SHOAL_UPSTREAM_AUTH'): UpstreamCredentials {
    const t = text.trim()
    if (t === '') return new UpstreamCredentials()
    if (t.startsWith('/')) return UpstreamCredentials.#dockerConfig(t, source)
    if (!t.includes('=')) return new UpstreamCredentials(new Map(), userPassword(t, source))
    const byHost = new Map<string, Credential>()
    for (const entry of t.split(',').map(s => s.trim()).filter(s => s !== '')) {
      const eq = entry.indexOf('=')
      if (eq <= 0) throw new ShoalError('ERR_BAD_CONFIG', `${source}: an entry is not host=user:password`)
      byHost.set(entry.slice(0, eq).trim().toLowerCase(), userPassword(entry.slice(eq + 1), source))
    }
    return new UpstreamCredentials(byHost)
  }

  static #dockerConfig (path: string, source: string): UpstreamCredentials {
    let config: { auths?: Record<string, { auth?: string, username?: string, password?: string }> }
    try {
      config = JSON.parse(readFileSync(path, 'utf8')) as typeof config
    } catch (err) {
      throw new ShoalError('ERR_BAD_CONFIG', `${source}: cannot read the docker config ${path} (${(err as NodeJS.ErrnoException).code ?? 'not JSON'})`)
    }
    const byHost = new Map<string, Credential>()
    for (const [key, entry] of Object.entries(config.auths ?? {})) {
      const host = hostOfKey(key)
      if (typeof entry.auth === 'string' && entry.auth !== '') byHost.set(host, userPassword(Buffer.from(entry.auth, 'base64').toString('utf8'), `${source} (${path}, ${key})`))
      else if (typeof entry.username === 'string' && typeof entry.password === 'string') byHost.set(host, { username: entry.username, password: entry.password })
    }
    // docker's own name of Docker Hub
    const hub = byHost.get('index.docker.io')
    if (hub !== undefined) { byHost.set('registry-1.docker.io', hub); byHost.set('docker.io', hub) }
    return new UpstreamCredentials(byHost)
  }

  /** The credential for an upstream named `host` (its ns name) at `url`, if any. */
  for (host: string, url: string): Credential | undefined {
    const urlHost = new URL(url).host.toLowerCase()
    return this.#byHost.get(host) ?? this.#byHost.get(urlHost) ?? this.#byHost.get(new URL(url).hostname.toLowerCase()) ?? this.#all
  }
}

function userPassword (text: string, source: string): Credential {
  const colon = text.indexOf(':')
  if (colon <= 0) throw new ShoalError('ERR_BAD_CONFIG', `${source}: a credential is not user:password`)
  return { username: text.slice(0, colon), password: text.slice(colon + 1) }
}

/** `https://index.docker.io/v1/` -> `index.docker.io`; `ghcr.io` stays. */
function hostOfKey (key: string): string {
  try {
    return new URL(key.includes('://') ? key : `https://${key}`).host.toLowerCase()
  } catch {
    return key.toLowerCase()
  }
}
