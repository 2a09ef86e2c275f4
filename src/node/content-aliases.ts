import type { Logger } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { decodeManifest, manifestCid } from '../content/index.js'
import type { Manifest } from '../content/index.js'
import type { NetworkApi } from '../net/index.js'
import { AliasClaims } from './alias-claims.js'
import { ALIAS_FIND_TIMEOUT_MS, PEER_QUERY_TIMEOUT_MS } from './constants.js'

/** What a lookup of an alias found: a peer's answer (unverifiable against the alias), or nothing yet. */
export type AliasLookup =
  | { found: true, cid: string, manifest: Manifest, peer: string }
  /** `alone`: no peer is connected, so nobody could have been asked. */
  | { found: false, alone?: boolean }

/**
 * Other names of a content: a CID that is not the manifest's (the registry mirror's CIDv1 raw
 * sha2-256 of a blob's digest) and that the node provides on the DHT and answers manifest requests
 * for with the real content's manifest. A receiver cannot check that answer against the alias: the
 * caller checks the fetched bytes against whatever the alias stands for, and excludes a peer that
 * lied.
 */
export class ContentAliases {
  readonly #targets = new Map<string, string>()
  readonly #network: () => NetworkApi | undefined
  readonly #log: Logger
  /** Who fetches an alias's content from elsewhere, and who has it (signals, not the DHT). */
  readonly claims: AliasClaims

  constructor (network: () => NetworkApi | undefined, log: Logger) {
    this.#network = network
    this.#log = log
    this.claims = new AliasClaims(network, alias => this.#targets.get(alias), log)
  }

  /** The content CID an alias stands for here, if any. */
  target (alias: string): string | undefined {
    return this.#targets.get(alias)
  }

  /** Makes `alias` name the held content `cid`, tells the nodes waiting for it and provides it on the DHT. */
  set (alias: string, cid: string): void {
    this.#targets.set(alias, cid)
    this.claims.announce(alias, cid)
    // not awaited: serving the content here must not wait for the DHT (a node alone waits its timeout)
    void this.#provide(CID.parse(alias))
  }

  async #provide (cid: CID, options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<void> {
    const network = this.#network()
    if (network?.started !== true || network.connectedPeers().length === 0) return
    await network.provide(cid, options).catch(err => { this.#log('providing %s failed: %e', cid.toString(), err) })
  }

  /** Forgets `alias` and stops providing it. */
  async delete (alias: string): Promise<void> {
    this.#targets.delete(alias)
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
    if (network?.started !== true || network.connectedPeers().length === 0) return { found: false, alone: true }
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
    return { found: false }
  }
}
