import type { CID } from 'multiformats/cid'
import type { ChunkLayout, Manifest } from '../content/index.js'
import type { HaveAnnouncer } from '../net/index.js'
import type { ChunkStore } from '../store/index.js'
import type { Availability, SuperSeedPolicy, SwarmSession } from '../swarm/index.js'
import type { ShoalError } from '../util/shoal-error.js'
import type { ContentMeta } from './content-records.js'
import { RateMeter } from './rate-meter.js'
import type { ContentInfo, ContentState, GetResult } from './types.js'

/** One content's runtime state inside a node: its manifest, store, gossip and download session. */
export class ContentEntry {
  readonly cid: CID
  readonly key: string
  state: ContentState = 'downloading'
  manifest?: Manifest
  manifestBytes?: Uint8Array
  layout?: ChunkLayout
  store?: ChunkStore
  meta?: ContentMeta
  announcer?: HaveAnnouncer
  session?: SwarmSession
  /** Who holds what, from gossip; feeds super-seeding. */
  swarm?: Availability
  superSeed?: SuperSeedPolicy
  download?: Promise<GetResult>
  error?: ShoalError
  /** Aborts this content's download and announcements (remove / stop). */
  readonly controller = new AbortController()
  readonly uploaded = new RateMeter()
  readonly downloaded = new RateMeter()
  /** Peers we talk to for this content (download) or have served (seed). */
  readonly peers = new Set<string>()
  /** Peers whose bitfield we asked for directly, with when. */
  readonly bitfieldAsked = new Map<string, number>()

  constructor (cid: CID) {
    this.cid = cid
    this.key = cid.toString()
  }

  get complete (): boolean {
    return this.store?.complete === true
  }

  info (): ContentInfo {
    const m = this.manifest
    return {
      cid: this.key,
      name: m?.name ?? '',
      path: this.meta?.path ?? '',
      size: m?.size ?? 0,
      chunkSize: m?.chunkSize ?? 0,
      chunks: this.store?.chunkCount ?? 0,
      // durable chunks only: what a restart after a kill still holds
      have: this.store?.durable.count ?? 0,
      state: this.state,
      peers: this.peers.size,
      uploadedBytes: this.uploaded.total,
      downloadedBytes: this.downloaded.total,
      ...(this.error === undefined ? {} : { error: this.error.message, errorCode: this.error.code })
    }
  }
}
