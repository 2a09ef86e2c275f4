import type { CID } from 'multiformats/cid'
import type { ChunkLayout, Manifest } from '../content/index.js'
import type { HaveAnnouncer } from '../net/index.js'
import type { ChunkStore } from '../store/index.js'
import type { Availability } from '../swarm/index.js'
import type { ShoalError } from '../util/shoal-error.js'
import type { ContentMeta } from './content-records.js'
import { MAX_TRACKED_PEERS_PER_CONTENT } from './constants.js'
import { ContentSources, peerShareField } from './content-sources.js'
import { RateMeter } from './rate-meter.js'
import { ReadInterest } from './read-interest.js'
import type { ContentDetail, ContentInfo, GetResult } from './types.js'

/** A content whose manifest is verified and whose store is open. */
export interface HeldContent {
  manifest: Manifest
  manifestBytes: Uint8Array
  layout: ChunkLayout
  store: ChunkStore
  meta: ContentMeta
}

/** A content announced on the network: its gossip topic joined and its CID provided. */
export interface AnnouncedContent {
  announcer: HaveAnnouncer
  /**
   * The content's one view of who holds what (gossip and direct bitfield answers, banned peers
   * excluded): the download's picker, the seeder's first-copy rule and the dashboard read it.
   */
  availability: Availability
}

/**
 * Where one content is in its life, and exactly what it holds there:
 * finding (no manifest yet) -> downloading (store open, announced) -> seeding / complete, or
 * stopped / error with whatever it still holds (a store to resume into, an announcer to leave).
 */
export type ContentPhase =
  | { readonly state: 'finding' }
  | { readonly state: 'downloading', readonly held: HeldContent, readonly announced: AnnouncedContent }
  | { readonly state: 'seeding' | 'complete', readonly held: HeldContent, readonly announced?: AnnouncedContent }
  | { readonly state: 'stopped', readonly held?: HeldContent, readonly announced?: AnnouncedContent }
  | {
    readonly state: 'error'
    readonly error: ShoalError
    readonly held?: HeldContent
    readonly announced?: AnnouncedContent
    /** A record that could not be reopened still says where its content was. */
    readonly meta?: ContentMeta
  }

/** One content's runtime record inside a node: its phase plus what lives as long as the content. */
export class ContentEntry {
  readonly cid: CID
  readonly key: string
  #phase: ContentPhase
  /** The download under way, if any. */
  download?: Promise<GetResult>
  /** Aborts this content's download and announcements (remove / stop). */
  readonly controller = new AbortController()
  readonly uploaded = new RateMeter()
  readonly downloaded = new RateMeter()
  /** Peers we talk to for this content (download) or have served (seed). */
  readonly peers = new Set<string>()
  /** Peers whose bitfield we asked for directly, with when. */
  readonly bitfieldAsked = new Map<string, number>()
  /** Where this content's bytes came from and went to (this run). */
  readonly sources = new ContentSources()
  /** Chunk index -> requests for it on the wire now (the dashboard's chunk map). */
  readonly inflight = new Map<number, number>()
  /** Peers a download banned for bad chunks (bounded; shown only). */
  readonly banned = new Set<string>()
  /** Readers streaming this content: chunks they want first, woken as chunks arrive. */
  readonly reads = new ReadInterest()

  constructor (cid: CID, phase: ContentPhase = { state: 'finding' }) {
    this.cid = cid
    this.key = cid.toString()
    this.#phase = phase
  }

  get phase (): ContentPhase {
    return this.#phase
  }

  /** The open store and manifest, in every phase that has them. */
  get held (): HeldContent | undefined {
    return this.#phase.state === 'finding' ? undefined : this.#phase.held
  }

  /** The announcer and availability view, once the content is announced. */
  get announced (): AnnouncedContent | undefined {
    return this.#phase.state === 'finding' ? undefined : this.#phase.announced
  }

  get complete (): boolean {
    return this.held?.store.complete === true
  }

  /** A (re)started download: back to finding, keeping what a stopped or failed one held. */
  restart (): void {
    const { held, announced } = this
    this.#phase = held === undefined ? { state: 'finding' } : { state: 'stopped', held, announced }
  }

  /** The manifest is known, the store open and the content announced: chunks can flow. */
  toDownloading (held: HeldContent, announced: AnnouncedContent): void {
    this.#phase = { state: 'downloading', held, announced }
    this.reads.notify()
  }

  /** Every chunk is held: served to others (`seeding`), or not yet announced (`complete`). */
  toHeld (held: HeldContent, announced?: AnnouncedContent): void {
    const state = announced !== undefined || held.meta.mode === 'seed' ? 'seeding' : 'complete'
    this.#phase = { state, held, announced }
    this.reads.notify()
  }

  /** Stopped part-way by an abort: resumable into what it holds. */
  toStopped (): void {
    this.#phase = { state: 'stopped', held: this.held, announced: this.announced }
    this.reads.notify()
  }

  /** Failed; stays listed with the reason (and closes what it holds when dropped). */
  toError (error: ShoalError, meta?: ContentMeta): void {
    this.#phase = { state: 'error', error, held: this.held, announced: this.announced, meta: meta ?? this.held?.meta }
    this.reads.notify()
  }

  info (): ContentInfo {
    const phase = this.#phase
    const held = this.held
    return {
      cid: this.key,
      name: held?.manifest.name ?? '',
      path: (held?.meta ?? (phase.state === 'error' ? phase.meta : undefined))?.path ?? '',
      size: held?.manifest.size ?? 0,
      chunkSize: held?.manifest.chunkSize ?? 0,
      chunks: held?.store.chunkCount ?? 0,
      // durable chunks only: what a restart after a kill still holds
      have: held?.store.durable.count ?? 0,
      // finding is a download that has no manifest yet; the public states predate it
      state: phase.state === 'finding' ? 'downloading' : phase.state,
      peers: this.peers.size,
      uploadedBytes: this.uploaded.total,
      downloadedBytes: this.downloaded.total,
      received: this.sources.received,
      ...peerShareField(this.sources.received),
      ...(phase.state === 'error' ? { error: phase.error.message, errorCode: phase.error.code } : {})
    }
  }

  /** A ban to show (the set stays bounded: a flood of identities cannot grow it). */
  noteBanned (peer: string): void {
    if (this.banned.size < MAX_TRACKED_PEERS_PER_CONTENT) this.banned.add(peer)
  }

  /** The dashboard's view: the chunk map, availability per chunk and the peers traded with. */
  detail (): ContentDetail {
    const store = this.held?.store
    const chunks = store?.chunkCount ?? 0
    const map = new Array<string>(chunks)
    const availability = this.announced?.availability
    const counts = new Array<number>(availability === undefined ? 0 : chunks)
    for (let i = 0; i < chunks; i++) {
      map[i] = store?.has(i) === true ? 'h' : (this.inflight.get(i) ?? 0) > 0 ? 'f' : 'm'
      if (availability !== undefined) counts[i] = availability.count(i)
    }
    const { receivedFrom, sentTo } = this.sources
    const peers = new Set([...receivedFrom.entries().map(([p]) => p), ...sentTo.entries().map(([p]) => p), ...this.banned])
    return {
      ...this.info(),
      chunkMap: map.join(''),
      availability: counts,
      downloadRateBps: this.downloaded.rate(),
      uploadRateBps: this.uploaded.rate(),
      peerBytes: [...peers].map(peer => ({
        peer,
        received: receivedFrom.get(peer),
        sent: sentTo.get(peer),
        origin: this.sources.isOrigin(peer),
        banned: this.banned.has(peer)
      })),
      otherPeers: { received: receivedFrom.others, sent: sentTo.others }
    }
  }
}
