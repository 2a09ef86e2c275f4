import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Logger } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { parseAddress } from '../api/parse-address.js'
import { hostWithoutPort, isLoopbackName } from '../api/request-guard.js'
import { resolveApiHost } from '../api/resolve-api-host.js'
import type { ShoalNode } from '../node/shoal-node.js'
import { isShoalError, ShoalError } from '../util/shoal-error.js'
import { BlobSource } from './blob-source.js'
import type { BlobWanted } from './blob-source.js'
import { MANIFEST_MEDIA_TYPES, MAX_MANIFEST_BYTES, MAX_REGISTRY_CONNECTIONS, REGISTRY_IDLE_SOCKET_TIMEOUT_MS, REGISTRY_KEEP_ALIVE_MS } from './constants.js'
import { DigestMap } from './digest-map.js'
import { checkName, parseDigest, parseReference } from './oci-digest.js'
import { OciError } from './oci-error.js'
import { serveHeldFile } from './serve-held-file.js'
import { UpstreamClient } from './upstream-client.js'
import type { UpstreamCredentials } from './upstream-credentials.js'
import type { Upstream, Upstreams } from './upstreams.js'

export interface RegistryServerInit {
  /** host:port of the mirror's own listener (SHOAL_REGISTRY). */
  address: string
  upstreams: Upstreams
  credentials: UpstreamCredentials
  /** Allow a non-loopback bind (SHOAL_REGISTRY_PUBLIC): whoever reaches it pulls with the upstream credentials. */
  allowRemote?: boolean
}

const ROUTE = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/
const API_VERSION = { 'docker-distribution-api-version': 'registry/2.0' }

/**
 * The pull side of the OCI distribution API, as a pull-through mirror (docs/registry.md): manifests
 * by tag from the upstream, manifests by digest and blobs from this node, its peers or the upstream,
 * each checked against its digest before a byte is served. Its own listener, loopback by default;
 * clients need no credentials, and the upstream's never leave the node.
 */
export class RegistryServer {
  readonly #init: RegistryServerInit
  readonly #log: Logger
  #server?: Server
  #blobs?: BlobSource
  #node?: ShoalNode
  #loopback = true
  #resolved?: { address: string, loopback: boolean }

  constructor (init: RegistryServerInit) {
    this.#init = init
    this.#log = logger('shoal:registry')
    parseAddress(init.address)
  }

  /** Where blobs came from so far (undefined before start). */
  get stats (): BlobSource['stats'] | undefined { return this.#blobs?.stats }

  /** Resolves and checks the address (loopback unless allowed), so a bad setup fails before the node starts. */
  async prepare (): Promise<void> {
    const { host } = parseAddress(this.#init.address)
    const resolved = await resolveApiHost(host).catch((err: unknown) => {
      throw new ShoalError('ERR_BAD_CONFIG', `registry mirror host "${host}" does not resolve (${(err as Error).message}); use an IP address such as 127.0.0.1`)
    })
    if (!resolved.loopback && this.#init.allowRemote !== true) {
      throw new ShoalError('ERR_BAD_CONFIG', `the registry mirror on ${this.#init.address} would be reachable from other machines, which could pull through this node's upstream credentials; bind 127.0.0.1 or set SHOAL_REGISTRY_PUBLIC=true`)
    }
    this.#resolved = resolved
  }

  /** Starts serving `node`'s mirror; returns its base URL. */
  async start (node: ShoalNode): Promise<string> {
    if (this.#resolved === undefined) await this.prepare()
    const resolved = this.#resolved!
    const { port } = parseAddress(this.#init.address)
    this.#loopback = resolved.loopback
    // before the digests load: the holders they re-announce must reach the mirrors already listening
    node.aliases.claims.join()
    const digests = new DigestMap(node)
    await digests.load()
    this.#node = node
    this.#blobs = new BlobSource({ node, digests, upstream: new UpstreamClient(this.#init.credentials, this.#log), log: this.#log })
    // clients keep connections idle between blobs for up to 90 s (Go's transport): a server closing
    // them sooner races their next request, which then fails with EOF
    const server = createServer({ keepAliveTimeout: REGISTRY_KEEP_ALIVE_MS }, (req, res) => { void this.#serve(req, res) })
    server.maxConnections = MAX_REGISTRY_CONNECTIONS
    server.setTimeout(REGISTRY_IDLE_SOCKET_TIMEOUT_MS)
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        reject(err.code === 'EADDRINUSE' ? new ShoalError('ERR_PORT_IN_USE', `registry mirror port ${this.#init.address} is in use; choose another with --registry`) : err)
      })
      server.listen(port, resolved.address, () => { resolve() })
    })
    const address = server.address()
    const bound = typeof address === 'object' && address !== null ? address.port : port
    return `http://${resolved.address.includes(':') ? `[${resolved.address}]` : resolved.address}:${bound}`
  }

  async stop (): Promise<void> {
    const server = this.#server
    this.#server = undefined
    if (server === undefined) return
    server.closeAllConnections()
    await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  }

  async #serve (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const abort = new AbortController()
    res.once('close', () => { abort.abort(new ShoalError('ERR_ABORTED', 'the client went away')) })
    try {
      this.#guard(req)
      const method = req.method ?? 'GET'
      const url = new URL(req.url ?? '/', 'http://mirror')
      if (method !== 'GET' && method !== 'HEAD') throw new OciError(405, 'UNSUPPORTED', `${method} is not served: this is a pull-only mirror`)
      if (url.pathname === '/v2/' || url.pathname === '/v2') {
        sendJson(res, 200, {}, method)
        return
      }
      const m = ROUTE.exec(url.pathname)
      if (m === null) throw new OciError(404, 'UNSUPPORTED', `no route ${url.pathname}; this mirror serves /v2/<name>/manifests/<ref> and /v2/<name>/blobs/<digest>`)
      const repository = checkName(decode(m[1]!))
      const upstream = this.#init.upstreams.choose(url.searchParams.get('ns'))
      if (m[2] === 'blobs') await this.#blob(req, res, { digest: parseDigest(decode(m[3]!)), repository, upstream, kind: 'blobs' }, abort.signal)
      else await this.#manifest(req, res, repository, upstream, decode(m[3]!), abort.signal)
    } catch (err) {
      this.#fail(req, res, err)
    }
  }

  /** A browser page must not read the mirror (DNS rebinding, cross-site requests); containerd sends no Origin. */
  #guard (req: IncomingMessage): void {
    const site = req.headers['sec-fetch-site']
    if (req.headers.origin !== undefined || site === 'cross-site' || site === 'same-site') {
      throw new OciError(403, 'DENIED', 'requests from web pages are refused by this registry mirror')
    }
    if (this.#loopback && !isLoopbackName(hostWithoutPort(req.headers.host ?? ''))) {
      throw new OciError(403, 'DENIED', `Host "${req.headers.host ?? ''}" is not this mirror's loopback address; call it as 127.0.0.1:<port>`)
    }
  }

  async #blob (req: IncomingMessage, res: ServerResponse, wanted: BlobWanted, signal: AbortSignal): Promise<void> {
    const blobs = this.#blobs!
    if (req.method === 'HEAD' && req.headers.range === undefined) {
      const size = await blobs.size(wanted, signal)
      res.writeHead(200, { ...API_VERSION, 'content-type': 'application/octet-stream', 'content-length': String(size), 'docker-content-digest': wanted.digest.text, 'accept-ranges': 'bytes' })
      res.end()
      return
    }
    const held = await blobs.get(wanted, signal)
    const release = this.#node!.leases.acquire(held.cid)
    await serveHeldFile(req, res, {
      path: held.path,
      size: held.size,
      contentType: 'application/octet-stream',
      headers: { ...API_VERSION, 'docker-content-digest': wanted.digest.text, etag: `"${wanted.digest.text}"` },
      release
    })
  }

  async #manifest (req: IncomingMessage, res: ServerResponse, repository: string, upstream: Upstream, reference: string, signal: AbortSignal): Promise<void> {
    const ref = parseReference(reference)
    const accept = req.headers.accept ?? MANIFEST_MEDIA_TYPES.join(', ')
    if ('tag' in ref) {
      await this.#manifestByTag(req, res, repository, upstream, ref.tag, accept, signal)
      return
    }
    const wanted: BlobWanted = { digest: ref.digest, repository, upstream, kind: 'manifests', accept }
    const held = await this.#blobs!.get(wanted, signal)
    if (held.size > MAX_MANIFEST_BYTES) throw new OciError(404, 'MANIFEST_UNKNOWN', `${ref.digest.text} is not a manifest (${held.size} bytes)`)
    const bytes = await readFile(held.path)
    const body = req.method === 'HEAD' ? undefined : bytes
    res.writeHead(200, { ...API_VERSION, 'content-type': mediaTypeOf(bytes), 'content-length': String(bytes.length), 'docker-content-digest': ref.digest.text, etag: `"${ref.digest.text}"` })
    res.end(body)
  }

  /** Tags move: always asked of the upstream; the manifest it names is then kept under its digest. */
  async #manifestByTag (req: IncomingMessage, res: ServerResponse, repository: string, upstream: Upstream, tag: string, accept: string, signal: AbortSignal): Promise<void> {
    const method = req.method === 'HEAD' ? 'HEAD' : 'GET'
    const answer = await this.#blobs!.upstream.request(upstream, repository, { method, path: `manifests/${tag}`, accept, signal })
    if (answer.status === 404) {
      await answer.body?.cancel()
      throw new OciError(404, 'MANIFEST_UNKNOWN', `${repository}:${tag} is unknown to the upstream`)
    }
    if (answer.status === 401 || answer.status === 403) {
      await answer.body?.cancel()
      throw new OciError(answer.status, answer.status === 401 ? 'UNAUTHORIZED' : 'DENIED', `the upstream refused ${repository} to this mirror (${answer.status}); set SHOAL_UPSTREAM_AUTH`)
    }
    if (!answer.ok) {
      await answer.body?.cancel()
      throw new ShoalError('ERR_UPSTREAM', `the upstream ${upstream.url} answered ${answer.status} for ${repository}:${tag}`)
    }
    const contentType = answer.headers.get('content-type') ?? 'application/vnd.oci.image.manifest.v1+json'
    if (method === 'HEAD') {
      const digest = answer.headers.get('docker-content-digest')
      if (digest === null) throw new ShoalError('ERR_UPSTREAM', `the upstream ${upstream.url} answered HEAD ${repository}:${tag} without Docker-Content-Digest`)
      res.writeHead(200, { ...API_VERSION, 'content-type': contentType, 'content-length': answer.headers.get('content-length') ?? '0', 'docker-content-digest': parseDigest(digest).text })
      res.end()
      return
    }
    const bytes = await readBounded(answer, MAX_MANIFEST_BYTES)
    const digest = parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`)
    const claimed = answer.headers.get('docker-content-digest')
    if (claimed !== null && claimed !== digest.text) {
      throw new ShoalError('ERR_DIGEST_MISMATCH', `the upstream's manifest for ${repository}:${tag} hashes to ${digest.text}, not the ${claimed} it claims; not served`)
    }
    res.writeHead(200, { ...API_VERSION, 'content-type': contentType, 'content-length': String(bytes.length), 'docker-content-digest': digest.text, etag: `"${digest.text}"` })
    res.end(bytes)
    this.#blobs!.keep({ digest, repository, upstream, kind: 'manifests' }, bytes).catch(err => { this.#log('keeping manifest %s failed: %e', digest.text, err) })
  }

  #fail (req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const oci = toOci(err)
    if (oci.status >= 500) this.#log.error('%s %s failed: %e', req.method, req.url, err)
    else this.#log('%s %s: %d %s', req.method, req.url, oci.status, oci.message)
    if (res.headersSent) {
      res.destroy()
      return
    }
    sendJson(res, oci.status, oci.body(), req.method ?? 'GET')
  }
}

/** OCI errors as they are; shoal's own failures as the spec's nearest code. */
function toOci (err: unknown): OciError {
  if (err instanceof OciError) return err
  if (isShoalError(err)) {
    if (err.code === 'ERR_UPSTREAM' || err.code === 'ERR_DIGEST_MISMATCH') return new OciError(502, 'UNAVAILABLE', err.message)
    if (err.code === 'ERR_ABORTED') return new OciError(503, 'UNAVAILABLE', err.message)
    if (err.code === 'ERR_NOT_FOUND') return new OciError(404, 'BLOB_UNKNOWN', err.message)
  }
  return new OciError(500, 'UNAVAILABLE', `the mirror failed: ${err instanceof Error ? err.message : String(err)}`)
}

function sendJson (res: ServerResponse, status: number, body: unknown, method: string): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { ...API_VERSION, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(method === 'HEAD' ? undefined : text)
}

function decode (text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw new OciError(400, 'NAME_INVALID', `"${text}" is not valid %-encoding`)
  }
}

/** A manifest's media type from its own `mediaType` field, else from its shape (OCI index or manifest). */
export function mediaTypeOf (bytes: Uint8Array): string {
  try {
    const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as { mediaType?: unknown, manifests?: unknown }
    if (typeof doc.mediaType === 'string' && /^[\w.+-]+\/[\w.+-]+$/.test(doc.mediaType)) return doc.mediaType
    return Array.isArray(doc.manifests) ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json'
  } catch {
    return 'application/vnd.oci.image.manifest.v1+json'
  }
}

async function readBounded (res: Response, max: number): Promise<Buffer> {
  const parts: Buffer[] = []
  let total = 0
  for await (const part of res.body ?? []) {
    total += (part as Uint8Array).length
    if (total > max) throw new ShoalError('ERR_UPSTREAM', `the upstream sent a manifest over ${max} bytes`)
    parts.push(Buffer.from(part as Uint8Array))
  }
  return Buffer.concat(parts)
}
