import type { Logger } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { decodeManifest, manifestCid } from '../content/index.js'
import type { Manifest } from '../content/index.js'
import type { NetworkApi } from '../net/index.js'
import { ALIAS_FIND_TIMEOUT_MS, CLAIM_RIVALS_TIMEOUT_MS, MAX_CLAIM_RIVALS, PEER_QUERY_TIMEOUT_MS } from './constants.js'

/** What a lookup of an alias found: a peer's answer (unverifiable against the alias), or nothing yet. */
export type AliasLookup =
  | { found: true, cid: string, manifest: Manifest, peer: string }
  /**
   * `pending`: nobody holds it, but a peer claimed it (is fetching it from elsewhere right now);
   * `alone`: no peer is connected, so nobody could have been asked.
   */
  | { found: false, pending: boolean, alone?: boolean }

/** multicodec of raw bytes: an alias names bytes, not a manifest. */
const RAW_CODE = 0x55
const CLAIM_PREFIX = new TextEncoder().encode('shoal/claim/1\0')

/**
 * The CID a node provides while it fetches an alias's content from elsewhere: distinct from the
 * alias, so that a holder whose record outlived its content (evicted, removed) is never taken for a
 * fetch under way.
 */
export async function claimCidOf (alias: string): Promise<CID> {
  const bytes = CID.parse(alias).bytes
  const input = new Uint8Array(CLAIM_PREFIX.length + bytes.length)
  input.set(CLAIM_PREFIX)
  input.set(bytes, CLAIM_PREFIX.length)
  return CID.createV1(RAW_CODE, await sha256.digest(input))
}

/**
 * Other names of a content: a CID that is not the manifest's (the registry mirror's CIDv1 raw
 * sha2-256 of a blob's digest) and that the node provides on the DHT and answers manifest requests
 * for with the real content's manifest. A receiver cannot check that answer against the alias: the
 * caller checks the fetched bytes against whatever the alias stands for, and excludes a peer that
 * lied.
 */
export class ContentAliases {
  readonly #targets = new Map<string, string>()
  /** Claim CID -> the alias it claims, while this node fetches that alias's content from elsewhere. */
  readonly #claims = new Map<string, Uint8Array>()
  readonly #network: () => NetworkApi | undefined
  readonly #log: Logger

  constructor (network: () => NetworkApi | undefined, log: Logger) {
    this.#network = network
    this.#log = log
  }

  /**
   * What a manifest request for a claim CID is answered with while the claim is live (the alias's
   * bytes): a peer that gets it knows the fetch is under way, one refused knows the record is stale.
   */
  claimAnswer (cid: string): Uint8Array | undefined {
    return this.#claims.get(cid)
  }

  /** The content CID an alias stands for here, if any. */
  target (alias: string): string | undefined {
    return this.#targets.get(alias)
  }

  /** Makes `alias` name the held content `cid`, provides it on the DHT and ends a claim on it. */
  set (alias: string, cid: string): void {
    this.#targets.set(alias, cid)
    // not awaited: serving the content here must not wait for the DHT (a node alone waits its timeout).
    // The claim stays live until the alias is provided, so nobody looks in between and finds neither.
    void this.#provide(CID.parse(alias)).finally(() => { void this.unclaim(alias) })
  }

  /**
   * Says on the DHT that this node is fetching the alias's content from elsewhere (its claim CID),
   * so that nodes wanting the same thing at the same time wait for it instead of all fetching it
   * there too; resolves once the claim is provided (bounded by `timeoutMs`).
   */
  async claim (alias: string, options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<void> {
    const claim = await claimCidOf(alias)
    this.#claims.set(claim.toString(), CID.parse(alias).bytes)
    await this.#provide(claim, options)
  }

  /**
   * Other peers with a live claim on `alias` right now (they answer for its claim CID): nodes that
   * claimed it at the same moment as this one, to break the tie with.
   */
  async liveClaimers (alias: string, options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<string[]> {
    const network = this.#network()
    if (network?.started !== true || network.connectedPeers().length === 0) return []
    const signal = options.signal ?? AbortSignal.timeout(PEER_QUERY_TIMEOUT_MS)
    const claim = await claimCidOf(alias)
    const infos = await network.findProviders(claim, { signal, timeoutMs: options.timeoutMs ?? CLAIM_RIVALS_TIMEOUT_MS, maxProviders: MAX_CLAIM_RIVALS })
    const live = await Promise.all(infos.map(async info => {
      const answer = await network.getManifest(info.id.toString(), claim, { signal: AbortSignal.any([signal, AbortSignal.timeout(PEER_QUERY_TIMEOUT_MS)]) }).catch(() => undefined)
      return answer !== undefined && equalBytes(answer, CID.parse(alias).bytes) ? info.id.toString() : undefined
    }))
    return live.filter((peer): peer is string => peer !== undefined)
  }

  /** Ends a claim (the content is held, or fetching it failed). */
  async unclaim (alias: string): Promise<void> {
    const claim = await claimCidOf(alias)
    this.#claims.delete(claim.toString())
    const network = this.#network()
    if (network?.started !== true) return
    await network.stopProviding(claim).catch(() => {})
  }

  async #provide (cid: CID, options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<void> {
    const network = this.#network()
    if (network?.started !== true || network.connectedPeers().length === 0) return
    await network.provide(cid, options).catch(err => { this.#log('providing %s failed: %e', cid.toString(), err) })
  }

  /** Forgets `alias` and stops providing it (and any claim on it). */
  async delete (alias: string): Promise<void> {
    this.#targets.delete(alias)
    await this.unclaim(alias)
    const network = this.#network()
    if (network?.started !== true) return
    await network.stopProviding(CID.parse(alias)).catch(() => {})
  }

  /**
   * Asks the DHT who provides `alias` and takes the manifest of the content it names from the first
   * provider not in `exclude` that holds it. The manifest is checked against its own CID only.
   */
  async lookup (alias: string, options: { signal?: AbortSignal, timeoutMs?: number, exclude?: ReadonlySet<string> } = {}): Promise<AliasLookup> {
    const network = this.#network()
    // alone, nobody can answer: a query would only wait for its timeout
    if (network?.started !== true || network.connectedPeers().length === 0) return { found: false, pending: false, alone: true }
    const signal = options.signal ?? AbortSignal.timeout(PEER_QUERY_TIMEOUT_MS)
    const infos = await network.findProviders(CID.parse(alias), { signal, timeoutMs: options.timeoutMs ?? ALIAS_FIND_TIMEOUT_MS, maxProviders: (options.exclude?.size ?? 0) + 1 })
    for (const info of infos) {
      const peer = info.id.toString()
      if (options.exclude?.has(peer) === true) continue
      try {
        const bytes = await network.getManifest(peer, CID.parse(alias), { signal: AbortSignal.any([signal, AbortSignal.timeout(PEER_QUERY_TIMEOUT_MS)]) })
        const cid = manifestCid(bytes)
        return { found: true, cid: cid.toString(), manifest: decodeManifest(bytes, cid), peer }
      } catch (err) {
        signal.throwIfAborted()
        // a holder that no longer holds it (evicted) or a peer that went away: the next one
        this.#log('alias %s from %s: %e', alias, peer, err)
      }
    }
    // a claim's record outlives a claimer that finished, failed or died: only a live claim counts
    const claim = await claimCidOf(alias)
    const claimers = await network.findProviders(claim, { signal, timeoutMs: options.timeoutMs ?? ALIAS_FIND_TIMEOUT_MS, maxProviders: 1 })
    for (const info of claimers) {
      const answer = await network.getManifest(info.id.toString(), claim, { signal: AbortSignal.any([signal, AbortSignal.timeout(PEER_QUERY_TIMEOUT_MS)]) }).catch(() => undefined)
      if (answer !== undefined && equalBytes(answer, CID.parse(alias).bytes)) return { found: false, pending: true }
    }
    return { found: false, pending: false }
  }
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}
