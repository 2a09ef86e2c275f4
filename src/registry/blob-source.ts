import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Logger } from '@libp2p/interface'
import { buildManifest } from '../content/index.js'
import { managedOutOf, MANAGED_STORE_DIR } from '../node/managed-store.js'
import type { ClaimDecision, ClaimHandle } from '../node/alias-claims.js'
import type { ShoalNode } from '../node/shoal-node.js'
import { isShoalError, ShoalError } from '../util/shoal-error.js'
import { CLAIM_WAIT_MS, FETCH_BOUND_MS, INCOMING_DIR, MAX_LYING_PEERS, PEER_STALL_MS, QUEUE_MIN_BYTES, UPSTREAM_STALL_MS } from './constants.js'
import type { DigestMap, HeldDigest } from './digest-map.js'
import { aliasCidOf } from './oci-digest.js'
import type { OciDigest } from './oci-digest.js'
import { OciError } from './oci-error.js'
import type { UpstreamClient } from './upstream-client.js'
import type { Upstream } from './upstreams.js'

/** Where a blob was wanted: the repository and upstream it belongs to, and how to ask for it. */
export interface BlobWanted {
  digest: OciDigest
  repository: string
  upstream: Upstream
  /** `blobs` or `manifests` (a manifest by digest is a blob to the swarm). */
  kind: 'blobs' | 'manifests'
  /** Accept header for a manifest. */
  accept?: string
}

/** Counters of where blobs came from, for tests and the benchmark. */
export interface BlobSourceStats {
  fromUpstream: number
  fromPeers: number
  upstreamBytes: number
  /** Blobs whose bytes did not match their digest (upstream or peer), never served. */
  mismatches: number
}

/**
 * Gets a blob onto this node, verified against its digest: held already, else from a peer that has
 * it or from the one mirror chosen to fetch it from the upstream (the alias claims' signals, the DHT
 * as a fallback), else from the upstream into the managed store under this node's claim, added
 * (seeded) and announced under its alias. One fetch per digest runs at a time; concurrent requests
 * join it.
 */
export class BlobSource {
  readonly stats: BlobSourceStats = { fromUpstream: 0, fromPeers: 0, upstreamBytes: 0, mismatches: 0 }
  readonly #node: ShoalNode
  readonly #digests: DigestMap
  /** The upstream registries' client (manifests by tag go straight to it). */
  readonly upstream: UpstreamClient
  readonly #log: Logger
  readonly #running = new Map<string, Promise<HeldDigest>>()
  /** Per digest, peers whose answer for its alias did not match: never asked for it again. */
  readonly #liars = new Map<string, Set<string>>()

  constructor (init: { node: ShoalNode, digests: DigestMap, upstream: UpstreamClient, log: Logger }) {
    this.#node = init.node
    this.#digests = init.digests
    this.upstream = init.upstream
    this.#log = init.log
  }

  /** The blob, held and verified here; throws OciError 404 when neither peers nor the upstream have it. */
  async get (wanted: BlobWanted, signal: AbortSignal): Promise<HeldDigest> {
    const held = await this.#digests.held(wanted.digest)
    if (held !== undefined) return held
    let running = this.#running.get(wanted.digest.hex)
    if (running === undefined) {
      // not the client's signal: a client that hangs up must not waste what other clients join
      running = this.#fetch(wanted).finally(() => { this.#running.delete(wanted.digest.hex) })
      this.#running.set(wanted.digest.hex, running)
    }
    return await raceAbort(running, signal)
  }

  /** Size of a blob without fetching it: held, else the upstream's HEAD, else a peer's manifest. */
  async size (wanted: BlobWanted, signal: AbortSignal): Promise<number> {
    const held = await this.#digests.held(wanted.digest)
    if (held !== undefined) return held.size
    const head = await this.#upstreamHead(wanted, signal)
    if (head.status === 'found') return head.size
    refuseMissing(head, wanted)
    const found = await this.#node.aliases.lookup(aliasCidOf(wanted.digest), { signal, exclude: this.#liars.get(wanted.digest.hex) })
    if (found.found) return found.manifest.size
    throw unknown(wanted)
  }

  async #fetch (wanted: BlobWanted): Promise<HeldDigest> {
    const signal = AbortSignal.timeout(CLAIM_WAIT_MS + FETCH_BOUND_MS)
    const alias = aliasCidOf(wanted.digest)
    const aliases = this.#node.aliases
    // asked at once so that a blob the upstream does not have answers 404 without waiting on peers
    const head = this.#upstreamHead(wanted, signal)
    // awaited below on most paths; one that throws first must not leave a rejection unhandled
    head.catch(() => {})
    const deadline = Date.now() + CLAIM_WAIT_MS
    // peers that claimed it and failed, or named a content that could not be fetched: not asked again
    const failed = new Set<string>()
    // set when this node's own claim lost to a rival's: wait for that one without choosing again
    let yielded: string | undefined
    for (;;) {
      const liars = this.#liarsOf(wanted)
      const exclude = new Set([...liars, ...failed])
      let decision: ClaimDecision = { kind: 'self' }
      if (yielded !== undefined) {
        decision = { kind: 'claimer', peer: yielded }
        yielded = undefined
      } else if (liars.size < MAX_LYING_PEERS && Date.now() < deadline) {
        const deciding = aliases.claims.decide(alias, { signal, exclude })
        deciding.catch(() => {})
        const first = await Promise.race([head.then(h => ({ head: h })), deciding.then(() => ({}))])
        if ('head' in first) refuseMissing(first.head, wanted)
        decision = await deciding
      }
      if (decision.kind === 'claimer') {
        // bounded: a claimer that fakes progress holds this node CLAIM_WAIT_MS at most
        const bounded = AbortSignal.any([signal, AbortSignal.timeout(Math.max(0, deadline - Date.now()))])
        const chosen = decision.peer
        const outcome = await aliases.claims.waitFor(alias, chosen, { signal: bounded, exclude }).catch((err: unknown) => {
          if (signal.aborted) throw err
          return { kind: 'failed' as const, reason: `it did not deliver within ${CLAIM_WAIT_MS} ms`, peer: chosen }
        })
        if (outcome.kind === 'failed') {
          // the claimer that failed, which is not the chosen peer when that one chose another: excluding
          // the chosen one instead left the stalled claimer live here, waited on again and failed at
          // once, and this mirror then fetched from the upstream beside the one all others chose
          this.#log('%s: %s was to fetch it but %s; choosing again', wanted.digest.text, outcome.peer, outcome.reason)
          failed.add(outcome.peer)
          continue
        }
        decision = outcome
      }
      if (decision.kind === 'holder') {
        try {
          return await this.#fromPeer(wanted, decision.cid, decision.peer)
        } catch (err) {
          this.#log('blob %s from %s failed, trying elsewhere: %e', wanted.digest.text, decision.peer, err)
          aliases.claims.forgetHolder(alias, decision.peer)
          failed.add(decision.peer)
          continue
        }
      }
      const upstream = await head
      refuseMissing(upstream, wanted)
      // a holder that is no member of the signal topic (not a mirror) is found on the DHT only
      const lonely = aliases.claims.members().length === 0
      if ((upstream.status === 'down' || lonely) && liars.size < MAX_LYING_PEERS) {
        const found = await aliases.lookup(alias, { signal, exclude })
        if (found.found) {
          try {
            return await this.#fromPeer(wanted, found.cid, found.peer)
          } catch (err) {
            this.#log('blob %s from %s failed: %e', wanted.digest.text, found.peer, err)
            failed.add(found.peer)
            if (upstream.status === 'down') continue
          }
        }
      }
      if (upstream.status === 'down') throw unknown(wanted, `no peer holds it and the upstream is unreachable (${upstream.reason})`)
      const claim = aliases.claims.claim(alias)
      const rival = lonely ? undefined : await aliases.claims.confirm(alias, { signal, exclude }).catch(err => { claim.end(true); throw err })
      if (rival !== undefined) {
        this.#log('%s: %s claimed it too and goes first', wanted.digest.text, rival)
        claim.end(true)
        yielded = rival
        continue
      }
      // small blobs (configs, manifests) do not queue: they hold the link for a moment only
      if (upstream.status === 'found' && upstream.size >= QUEUE_MIN_BYTES) await aliases.claims.turn(alias, { signal }).catch(err => { claim.end(true); throw err })
      const got = await this.#fromUpstream(wanted, claim, exclude, signal)
      if ('held' in got) return got.held
      this.#log('%s: %s received more of it from the upstream; waiting for it', wanted.digest.text, got.yielded)
      yielded = got.yielded
    }
  }

  #liarsOf (wanted: BlobWanted): Set<string> {
    let set = this.#liars.get(wanted.digest.hex)
    if (set === undefined) { set = new Set(); this.#liars.set(wanted.digest.hex, set) }
    return set
  }

  /** Fetches the content a peer named for the alias, then checks the whole file against the digest. */
  async #fromPeer (wanted: BlobWanted, cid: string, peer: string): Promise<HeldDigest> {
    const stalled = new AbortController()
    let last = Date.now()
    const watchdog = setInterval(() => {
      if (Date.now() - last > PEER_STALL_MS) stalled.abort(new ShoalError('ERR_PEER_TIMEOUT', `no chunk of ${wanted.digest.text} verified for ${PEER_STALL_MS} ms`))
    }, 1_000)
    let result
    try {
      // every peer said to hold it is asked for the manifest at once: the DHT is slow while links are full
      const holders = [...this.#node.aliases.claims.holders(aliasCidOf(wanted.digest))].filter(([p, c]) => c === cid && p !== peer).map(([p]) => p)
      result = await this.#node.fetch(cid, { signal: stalled.signal, peers: [peer, ...holders], onProgress: () => { last = Date.now() } })
    } finally {
      clearInterval(watchdog)
    }
    const actual = await sha256Of(result.path)
    if (actual !== wanted.digest.hex || result.size === 0 && actual !== EMPTY_SHA256) {
      this.stats.mismatches++
      this.#liarsOf(wanted).add(peer)
      this.#log.error('peer %s named content %s for %s, whose bytes hash to sha256:%s; banned for it', peer, cid, wanted.digest.text, actual)
      await this.#discard(cid)
      throw new ShoalError('ERR_DIGEST_MISMATCH', `the content a peer named for ${wanted.digest.text} does not match it`)
    }
    this.stats.fromPeers++
    this.#log('%s from peers (%s first): %d bytes, content %s', wanted.digest.text, peer, result.size, cid)
    await this.#digests.put(wanted.digest, cid)
    return { digest: wanted.digest, cid, path: result.path, size: result.size }
  }

  /**
   * Downloads from the upstream to a temp name under this node's claim (the mirrors waiting for it
   * see its progress), checks the digest, moves it into the store, seeds it and tells the waiters.
   */
  async #fromUpstream (wanted: BlobWanted, claim: ClaimHandle, exclude: ReadonlySet<string>, signal: AbortSignal): Promise<{ held: HeldDigest } | { yielded: string }> {
    const alias = aliasCidOf(wanted.digest)
    const claims = this.#node.aliases.claims
    let ok = false
    let yielded: string | undefined
    const store = join(this.#node.init.dataDir, MANAGED_STORE_DIR)
    const incoming = join(store, INCOMING_DIR, randomBytes(8).toString('hex'))
    const name = `sha256-${wanted.digest.hex}`
    const temp = join(incoming, name)
    try {
      await mkdir(incoming, { recursive: true, mode: 0o700 })
      const res = await this.upstream.request(wanted.upstream, wanted.repository, { method: 'GET', path: `${wanted.kind}/${wanted.digest.text}`, accept: wanted.accept, signal })
      if (res.status === 404) { await res.body?.cancel(); throw unknown(wanted) }
      if (!res.ok || res.body === null) {
        await res.body?.cancel()
        throw new ShoalError('ERR_UPSTREAM', `the upstream ${wanted.upstream.url} answered ${res.status} for ${wanted.repository} ${wanted.digest.text}`)
      }
      const hash = createHash('sha256')
      let bytes = 0
      const stall = new AbortController()
      let last = Date.now()
      const watchdog = setInterval(() => {
        if (Date.now() - last > UPSTREAM_STALL_MS) stall.abort(new ShoalError('ERR_UPSTREAM', `the upstream sent nothing for ${UPSTREAM_STALL_MS} ms`))
        // two claimers that missed each other: the one behind stops, freeing the upstream's link
        if (yielded !== undefined) return
        yielded = claims.ahead(alias, bytes, exclude)
        if (yielded !== undefined) stall.abort(new ShoalError('ERR_ABORTED', `${yielded} has more of it`))
      }, 1_000)
      try {
        await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), new Transform({
          transform (chunk: Buffer, _enc, done) { hash.update(chunk); bytes += chunk.length; last = Date.now(); claim.progress(bytes); done(null, chunk) }
        }), createWriteStream(temp, { mode: 0o600 }), { signal: AbortSignal.any([signal, stall.signal]) })
      } catch (err) {
        if (yielded !== undefined) {
          this.stats.upstreamBytes += bytes
          return { yielded }
        }
        throw err
      } finally {
        clearInterval(watchdog)
      }
      this.stats.upstreamBytes += bytes
      const actual = hash.digest('hex')
      if (actual !== wanted.digest.hex) {
        this.stats.mismatches++
        this.#log.error('the upstream %s sent %d bytes for %s %s that hash to sha256:%s; not served', wanted.upstream.url, bytes, wanted.repository, wanted.digest.text, actual)
        throw new ShoalError('ERR_DIGEST_MISMATCH', `the upstream's bytes for ${wanted.digest.text} hash to sha256:${actual}; refusing to serve them`)
      }
      const held = await this.#seed(wanted.digest, temp, bytes, signal)
      this.stats.fromUpstream++
      this.#log('%s %s from the upstream: %d bytes, content %s', wanted.repository, wanted.digest.text, bytes, held.cid)
      ok = true
      return { held }
    } catch (err) {
      if (!(err instanceof OciError)) this.#log.error('fetching %s from the upstream failed: %e', wanted.digest.text, err)
      throw err
    } finally {
      // a failed fetch tells the waiters at once, so they choose again instead of waiting out the silence
      claim.end(!ok)
      await rm(incoming, { recursive: true, force: true })
    }
  }

  /** Keeps bytes already checked against `wanted.digest` (a manifest fetched by tag) as a seeded content. */
  async keep (wanted: BlobWanted, bytes: Uint8Array): Promise<void> {
    if (await this.#digests.held(wanted.digest) !== undefined || this.#running.has(wanted.digest.hex)) return
    const incoming = join(this.#node.init.dataDir, MANAGED_STORE_DIR, INCOMING_DIR, randomBytes(8).toString('hex'))
    const temp = join(incoming, `sha256-${wanted.digest.hex}`)
    const running = (async () => {
      try {
        await mkdir(incoming, { recursive: true, mode: 0o700 })
        await writeFile(temp, bytes, { mode: 0o600 })
        return await this.#seed(wanted.digest, temp, bytes.length, AbortSignal.timeout(FETCH_BOUND_MS))
      } finally {
        await rm(incoming, { recursive: true, force: true })
      }
    })().finally(() => { this.#running.delete(wanted.digest.hex) })
    this.#running.set(wanted.digest.hex, running)
    await running
  }

  /** Moves a verified file to `<store>/<cid>/sha256-<hex>` (the CID is known once its manifest is built), adds and announces it. */
  async #seed (digest: OciDigest, temp: string, size: number, signal: AbortSignal): Promise<HeldDigest> {
    const built = await buildManifest(temp, { chunkSize: this.#node.init.chunkSize, signal })
    const final = join(managedOutOf(this.#node.init.dataDir, built.cid.toString()), basename(temp))
    await mkdir(dirname(final), { recursive: true })
    await rename(temp, final)
    const added = await this.#node.add(final, { signal })
    await this.#digests.put(digest, added.cid)
    return { digest, cid: added.cid, path: final, size }
  }

  async #upstreamHead (wanted: BlobWanted, signal: AbortSignal): Promise<HeadAnswer> {
    try {
      const res = await this.upstream.request(wanted.upstream, wanted.repository, { method: 'HEAD', path: `${wanted.kind}/${wanted.digest.text}`, accept: wanted.accept, signal })
      if (res.status === 404) return { status: 'missing' }
      if (res.status === 401 || res.status === 403) return { status: 'denied', code: res.status }
      if (!res.ok) return { status: 'down', reason: `it answered ${res.status}` }
      return { status: 'found', size: Number(res.headers.get('content-length') ?? '0') }
    } catch (err) {
      if (!isShoalError(err)) throw err
      return { status: 'down', reason: err.message }
    }
  }

  /** Forgets a content that failed its digest check and deletes its files (they are the cache's). */
  async #discard (cid: string): Promise<void> {
    await this.#node.remove(cid).catch(() => {})
    const dir = managedOutOf(this.#node.init.dataDir, cid)
    if (basename(dir) === cid) await rm(dir, { recursive: true, force: true })
  }
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

type HeadAnswer = { status: 'found', size: number } | { status: 'missing' } | { status: 'denied', code: number } | { status: 'down', reason: string }

/** The upstream does not have it, or will not give it to this mirror: nothing else is asked. */
function refuseMissing (head: HeadAnswer, wanted: BlobWanted): void {
  if (head.status === 'missing') throw unknown(wanted)
  // peers are not asked for what the upstream refuses this mirror's credentials
  if (head.status === 'denied') throw new OciError(head.code, head.code === 401 ? 'UNAUTHORIZED' : 'DENIED', `the upstream refused ${wanted.repository} to this mirror (${head.code}); set SHOAL_UPSTREAM_AUTH`)
}

function unknown (wanted: BlobWanted, why = ''): OciError {
  const tail = why === '' ? '' : `: ${why}`
  return wanted.kind === 'blobs'
    ? new OciError(404, 'BLOB_UNKNOWN', `blob ${wanted.digest.text} is unknown to ${wanted.repository}${tail}`)
    : new OciError(404, 'MANIFEST_UNKNOWN', `manifest ${wanted.digest.text} is unknown to ${wanted.repository}${tail}`)
}

async function sha256Of (path: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(path), hash)
  return hash.digest('hex')
}

/** Waits for `promise` unless `signal` aborts first (the promise goes on for its other waiters). */
async function raceAbort<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  let onAbort = (): void => {}
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
