import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { ShoalError } from '../util/shoal-error.js'

/**
 * Every setting the CLI understands, in one table: its flag, its SHOAL_* environment variable, its
 * default and its parser. Flags override the environment, the environment overrides the default.
 * `.env.example` and the README's table are generated from / checked against this list
 * (test/cli/settings.test.ts), so the three never drift apart. Settings that are gone but still
 * accepted are in retired-settings.ts.
 */
export interface Setting<T> {
  /** Key in the resolved settings object. */
  key: keyof Settings
  flag: string
  env: string
  /** The default as a string, exactly as it would be written in the environment. */
  defaultText: string
  description: string
  parse: (text: string, source: string) => T
}

export interface Settings {
  dataDir: string
  listen: string[]
  announce: string[]
  bootstrap: string[]
  swarmKey: string
  dhtMode: 'server' | 'client'
  api: string
  apiToken: string
  apiAllowHosts: string[]
  apiAllowOrigins: string[]
  allowPaths: string[]
  uploadLimit: number
  downloadLimit: number
  seedTime: number
  libp2pMetrics: boolean
  chunkSize: number
  maxPeers: number
  cacheMax: number
  gcHigh: number
  gcLow: number
  cacheTti: number
  cacheTtl: number
  registry: string
  upstream: string
  upstreamAuth: string
  registryPublic: boolean
}

function fail (source: string, what: string): never {
  throw new ShoalError('ERR_BAD_CONFIG', `${source}: ${what}`)
}

const list = (text: string): string[] => text.split(/[,\s]+/).map(s => s.trim()).filter(s => s !== '')
const str = (text: string): string => text.trim()
const commaList = (text: string): string[] => text.split(',').map(s => s.trim()).filter(s => s !== '')

function parseFolders (text: string, source: string): string[] {
  return commaList(text).map(p => {
    const expanded = p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p
    if (!isAbsolute(expanded)) fail(source, `"${p}" is not an absolute folder; write e.g. /srv/data,~/datasets (or / for anywhere)`)
    return expanded
  })
}

/** Parses a byte count such as `1048576`, `512k`, `64M`, `2GiB`. */
export function parseBytes (text: string, source: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$/i.exec(text)
  if (m === null) fail(source, `"${text}" is not a size; write e.g. 1048576, 512k, 64M or 2G`)
  const power = ' kmgt'.indexOf((m[2] ?? '').toLowerCase() || ' ')
  const value = Number(m[1]) * 1024 ** power
  if (!Number.isSafeInteger(Math.round(value))) fail(source, `"${text}" is too large`)
  return Math.round(value)
}

/** Parses a rate in bytes per second; 0 or `unlimited` means no limit. Accepts `10M` (bytes) or `80mbit`. */
export function parseRate (text: string, source: string): number {
  const t = text.trim().toLowerCase()
  if (t === '' || t === '0' || t === 'unlimited' || t === 'none') return 0
  const bits = /^(\d+(?:\.\d+)?)\s*([kmg]?)bit$/.exec(t)
  if (bits !== null) return Math.round(Number(bits[1]) * 1000 ** ' kmg'.indexOf(bits[2] || ' ') / 8)
  return parseBytes(t, source)
}

/** Parses a duration in seconds (`90`, `90s`, `15m`, `2h`) or `inf`/`forever`; returns milliseconds. */
export function parseDuration (text: string, source: string): number {
  const t = text.trim().toLowerCase()
  if (t === 'inf' || t === 'infinity' || t === 'forever') return Infinity
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(t)
  if (m === null) fail(source, `"${text}" is not a duration; write e.g. 0, 90s, 15m, 2h or inf`)
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd' ?? 's'] ?? 1000
  return Number(m[1]) * unit
}

function parseBool (text: string, source: string): boolean {
  const t = text.trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(t)) return true
  if (['0', 'false', 'no', 'off', ''].includes(t)) return false
  return fail(source, `"${text}" is not a boolean; write true or false`)
}

function parseInteger (min: number, max: number) {
  return (text: string, source: string): number => {
    const n = Number(text)
    if (!Number.isInteger(n) || n < min || n > max) fail(source, `"${text}" must be a whole number from ${min} to ${max}`)
    return n
  }
}

export const SETTINGS: ReadonlyArray<Setting<unknown>> = [
  { key: 'dataDir', flag: '--data-dir <dir>', env: 'SHOAL_DATA_DIR', defaultText: '~/.shoal', description: 'where the node keeps its identity key, DHT records and download state', parse: str },
  { key: 'listen', flag: '--listen <addrs>', env: 'SHOAL_LISTEN', defaultText: '/ip4/0.0.0.0/tcp/0', description: 'comma-separated multiaddrs to listen on', parse: list },
  { key: 'announce', flag: '--announce <addrs>', env: 'SHOAL_ANNOUNCE', defaultText: '', description: 'comma-separated multiaddrs to announce instead of the listen addresses (behind NAT, in a container)', parse: list },
  { key: 'bootstrap', flag: '--bootstrap <addrs>', env: 'SHOAL_BOOTSTRAP', defaultText: '', description: 'comma-separated bootstrap multiaddrs (each ending in /p2p/<peer id>)', parse: list },
  { key: 'swarmKey', flag: '--swarm-key <file>', env: 'SHOAL_SWARM_KEY', defaultText: '', description: 'private swarm key file; only nodes with the same key can connect (off when empty)', parse: str },
  {
    key: 'dhtMode',
    flag: '--dht-mode <mode>',
    env: 'SHOAL_DHT_MODE',
    defaultText: 'server',
    description: 'server (answers DHT queries) or client',
    parse: (t, s) => {
      if (t !== 'server' && t !== 'client') fail(s, `"${t}" must be server or client`)
      return t
    }
  },
  { key: 'api', flag: '--api <host:port>', env: 'SHOAL_API', defaultText: '', description: 'control API address: where `shoal daemon` listens and where other commands find it (empty: run standalone)', parse: str },
  { key: 'apiToken', flag: '--api-token <token>', env: 'SHOAL_API_TOKEN', defaultText: '', description: 'bearer token for the control API (empty: the daemon creates <data dir>/api.token and local clients read it); required when it binds a non-loopback address', parse: str },
  { key: 'apiAllowHosts', flag: '--api-allow-hosts <names>', env: 'SHOAL_API_ALLOW_HOSTS', defaultText: '', description: 'comma-separated Host names the control API answers to besides loopback and its own address', parse: commaList },
  { key: 'apiAllowOrigins', flag: '--api-allow-origins <origins>', env: 'SHOAL_API_ALLOW_ORIGINS', defaultText: '', description: 'comma-separated browser origins (https://host:port) allowed to call the control API, with CORS (empty: no web page)', parse: commaList },
  { key: 'allowPaths', flag: '--allow-paths <dirs>', env: 'SHOAL_ALLOW_PATHS', defaultText: '', description: 'comma-separated absolute folders the control API may add from and download into (empty: your home directory and the data dir; / for anywhere)', parse: parseFolders },
  { key: 'uploadLimit', flag: '--upload-limit <rate>', env: 'SHOAL_UPLOAD_LIMIT', defaultText: '0', description: 'global upload cap in bytes/s (10M, 80mbit; 0 = unlimited)', parse: parseRate },
  { key: 'downloadLimit', flag: '--download-limit <rate>', env: 'SHOAL_DOWNLOAD_LIMIT', defaultText: '0', description: 'global download cap in bytes/s (0 = unlimited)', parse: parseRate },
  { key: 'seedTime', flag: '--seed-time <duration>', env: 'SHOAL_SEED_TIME', defaultText: '0', description: 'how long `get` keeps seeding after it finishes (0, 90s, 15m, inf)', parse: parseDuration },
  { key: 'chunkSize', flag: '--chunk-size <size>', env: 'SHOAL_CHUNK_SIZE', defaultText: '256k', description: 'chunk size for content you add (power of two, 64k to 16M)', parse: parseBytes },
  { key: 'maxPeers', flag: '--max-peers <n>', env: 'SHOAL_MAX_PEERS', defaultText: '32', description: 'most peers one download talks to at once', parse: parseInteger(1, 1000) },
  { key: 'cacheMax', flag: '--cache-max <size>', env: 'SHOAL_CACHE_MAX', defaultText: '0', description: 'most bytes the managed store (<data dir>/store) may hold, e.g. 200G or 512M (0: no limit, the watermarks are of the disk)', parse: parseBytes },
  { key: 'gcHigh', flag: '--gc-high <percent>', env: 'SHOAL_GC_HIGH', defaultText: '90', description: 'cache GC starts above this percent of --cache-max (or of the disk)', parse: parseInteger(1, 100) },
  { key: 'gcLow', flag: '--gc-low <percent>', env: 'SHOAL_GC_LOW', defaultText: '70', description: 'cache GC evicts least recently used content down to this percent of --cache-max (or of the disk)', parse: parseInteger(0, 99) },
  { key: 'cacheTti', flag: '--cache-tti <duration>', env: 'SHOAL_CACHE_TTI', defaultText: 'inf', description: 'evict managed content nobody used for this long (15m, 7d; inf = never)', parse: parseDuration },
  { key: 'cacheTtl', flag: '--cache-ttl <duration>', env: 'SHOAL_CACHE_TTL', defaultText: 'inf', description: 'evict managed content this long after it was fetched (1h, 30d; inf = never)', parse: parseDuration },
  { key: 'libp2pMetrics', flag: '--libp2p-metrics', env: 'SHOAL_LIBP2P_METRICS', defaultText: 'false', description: "export libp2p's own metrics (connections, streams, protocols; libp2p_* names) on the daemon's /metrics too", parse: parseBool },
  { key: 'registry', flag: '--registry <host:port>', env: 'SHOAL_REGISTRY', defaultText: '', description: '`shoal daemon`: serve an OCI registry mirror (pull side) on this address (empty: off; loopback unless SHOAL_REGISTRY_PUBLIC)', parse: str },
  { key: 'upstream', flag: '--upstream <urls>', env: 'SHOAL_UPSTREAM', defaultText: '', description: 'the mirror\'s upstream registry URL, or host=url,... chosen by containerd\'s ns parameter (an entry without host= is the default)', parse: str },
  { key: 'upstreamAuth', flag: '--upstream-auth <credentials>', env: 'SHOAL_UPSTREAM_AUTH', defaultText: '', description: 'upstream credentials: user:password, host=user:password,..., or the path of a docker config.json (empty: anonymous); never logged or sent to peers', parse: str },
  { key: 'registryPublic', flag: '--registry-public', env: 'SHOAL_REGISTRY_PUBLIC', defaultText: 'false', description: 'let the mirror bind a non-loopback address (whoever reaches it pulls with the upstream credentials)', parse: parseBool }
]

/** Resolves settings from (highest first) explicit flag values, the environment, and the defaults. */
export function resolveSettings (flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Settings {
  const out: Record<string, unknown> = {}
  for (const s of SETTINGS) {
    const flagValue = flags[s.key]
    if (flagValue !== undefined && typeof flagValue !== 'string') {
      out[s.key] = flagValue
      continue
    }
    const flagName = s.flag.split(' ')[0]!
    const [text, source] = flagValue !== undefined
      ? [flagValue, flagName]
      : env[s.env] !== undefined ? [env[s.env]!, s.env] : [s.defaultText, `default of ${s.env}`]
    out[s.key] = s.parse(text, source)
  }
  const settings = out as unknown as Settings
  if (settings.gcLow >= settings.gcHigh) fail('--gc-low', `${settings.gcLow} must be below --gc-high (${settings.gcHigh})`)
  if (settings.dataDir === '~/.shoal' || settings.dataDir === '') settings.dataDir = join(homedir(), '.shoal')
  else if (settings.dataDir.startsWith('~/')) settings.dataDir = join(homedir(), settings.dataDir.slice(2))
  return settings
}
