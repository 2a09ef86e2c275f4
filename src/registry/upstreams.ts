import { ShoalError } from '../util/shoal-error.js'
import { OciError } from './oci-error.js'

/** One registry the mirror pulls through. */
export interface Upstream {
  /** The registry host clients name (containerd's `ns`), or '' for the default. */
  host: string
  /** Base URL without a trailing slash: `https://registry-1.docker.io`. */
  url: string
}

/**
 * The mirror's upstreams, from SHOAL_UPSTREAM: one URL, or `host=url,...` chosen by containerd's
 * `ns` query parameter; an entry without `host=` (or the only one) is the default.
 */
export class Upstreams {
  readonly list: readonly Upstream[]
  readonly #default: Upstream | undefined

  constructor (list: Upstream[]) {
    this.list = list
    this.#default = list.length === 1 ? list[0] : list.find(u => u.host === '')
  }

  /** Parses SHOAL_UPSTREAM; throws ERR_BAD_CONFIG on a URL with credentials or a bad scheme. */
  static parse (text: string, source = 'SHOAL_UPSTREAM'): Upstreams {
    const entries = text.split(',').map(s => s.trim()).filter(s => s !== '')
    if (entries.length === 0) throw new ShoalError('ERR_BAD_CONFIG', `${source}: the registry mirror needs an upstream; write e.g. https://registry-1.docker.io or docker.io=https://registry-1.docker.io,ghcr.io=https://ghcr.io`)
    return new Upstreams(entries.map(entry => {
      const eq = entry.indexOf('=')
      const host = eq === -1 || /^https?:/i.test(entry.slice(0, eq)) ? '' : entry.slice(0, eq).trim().toLowerCase()
      const raw = host === '' ? entry : entry.slice(eq + 1).trim()
      let url: URL
      try {
        url = new URL(raw)
      } catch {
        throw new ShoalError('ERR_BAD_CONFIG', `${source}: "${raw}" is not a URL; write e.g. https://registry.example.com`)
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ShoalError('ERR_BAD_CONFIG', `${source}: "${raw}" must be an http or https URL`)
      // the value is printed and logged; credentials have their own setting, which never is
      if (url.username !== '' || url.password !== '') throw new ShoalError('ERR_BAD_CONFIG', `${source}: put no credentials in the upstream URL; set SHOAL_UPSTREAM_AUTH instead`)
      if (url.search !== '' || url.hash !== '') throw new ShoalError('ERR_BAD_CONFIG', `${source}: "${raw}" must have no query or fragment`)
      return { host, url: url.origin + url.pathname.replace(/\/+$/, '') }
    }))
  }

  /** The upstream for containerd's `ns` (the registry host it wanted), or the default; 404 when none fits. */
  choose (ns: string | null): Upstream {
    const wanted = ns?.trim().toLowerCase() ?? ''
    const named = wanted === '' ? undefined : this.list.find(u => u.host === wanted)
    const chosen = named ?? this.#default
    if (chosen === undefined) throw new OciError(404, 'NAME_UNKNOWN', `this mirror has no upstream for ${wanted === '' ? 'requests without ?ns=' : `registry ${wanted}`}; add it to SHOAL_UPSTREAM`)
    return chosen
  }
}
