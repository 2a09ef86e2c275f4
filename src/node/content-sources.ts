import { MAX_TRACKED_ORIGINS, MAX_TRACKED_PEERS_PER_CONTENT } from './constants.js'
import { PeerByteCounts } from './peer-byte-counts.js'
import type { SourceBytes, SourceKind } from './types.js'

/**
 * Where one content's bytes came from and went to: received bytes per source kind and per peer,
 * sent bytes per peer. `origin` is what a peer says of itself (the flag on its bitfield answer): it
 * is shown to users and never trusted for any decision. The split between origin and other peers is
 * made when read, from the per-peer counts, so bytes a peer sent before its bitfield answer told us
 * it is the origin still count as the origin's.
 */
export class ContentSources {
  #fromPeers = 0
  #upstream = 0
  readonly receivedFrom = new PeerByteCounts(MAX_TRACKED_PEERS_PER_CONTENT)
  readonly sentTo = new PeerByteCounts(MAX_TRACKED_PEERS_PER_CONTENT)
  readonly #origins = new Set<string>()

  /** `peer` says it published this content. */
  markOrigin (peer: string): void {
    if (this.#origins.has(peer) || this.#origins.size >= MAX_TRACKED_ORIGINS) return
    this.#origins.add(peer)
  }

  isOrigin (peer: string): boolean {
    return this.#origins.has(peer)
  }

  /** The peers that said they published this content. */
  get origins (): ReadonlySet<string> {
    return this.#origins
  }

  /** Verified bytes received, by source kind. */
  get received (): SourceBytes {
    let origin = 0
    for (const peer of this.#origins) origin += this.receivedFrom.get(peer)
    return { origin, peer: this.#fromPeers - origin, upstream: this.#upstream }
  }

  /** Verified bytes from `peer`; returns the kind it is known as now. */
  receivedFromPeer (peer: string, bytes: number): SourceKind {
    this.#fromPeers += bytes
    this.receivedFrom.add(peer, bytes)
    return this.#origins.has(peer) ? 'origin' : 'peer'
  }

  /** Bytes fetched from outside the swarm (a registry or URL the registry mirror pulls from). */
  receivedFromUpstream (bytes: number): void {
    this.#upstream += bytes
  }

  sent (peer: string, bytes: number): void {
    this.sentTo.add(peer, bytes)
  }
}

/** The share of `bytes` that came from peers other than the origin, 0..1; undefined when nothing was received. */
export function peerShare (bytes: SourceBytes): number | undefined {
  const total = bytes.origin + bytes.peer + bytes.upstream
  return total === 0 ? undefined : bytes.peer / total
}

/** `{ peerShare }` for a ContentInfo or NodeStatus, or nothing when nothing was received. */
export function peerShareField (bytes: SourceBytes): { peerShare?: number } {
  const share = peerShare(bytes)
  return share === undefined ? {} : { peerShare: share }
}
