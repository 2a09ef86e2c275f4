import type { ComponentLogger, Logger } from '@libp2p/interface'
import type { NetworkApi } from '../net/index.js'
import { Availability } from '../swarm/index.js'
import type { AnnouncedContent, ContentEntry, HeldContent } from './content-entry.js'

export interface ContentAnnouncementsInit {
  network: NetworkApi
  logger: ComponentLogger
}

/**
 * A node's announcements: provides each held content on the DHT, joins its gossip topic and feeds
 * the content's one availability view (which the download, the seeder's policies and the dashboard
 * all read) from what the other members announce.
 */
export class ContentAnnouncements {
  readonly #init: ContentAnnouncementsInit
  readonly #log: Logger

  constructor (init: ContentAnnouncementsInit) {
    this.#init = init
    this.#log = init.logger.forComponent('shoal:node')
  }

  /** Announces `held` (once per entry: an announced entry keeps its announcer). */
  publish (entry: ContentEntry, held: HeldContent): AnnouncedContent {
    const existing = entry.announced
    if (existing !== undefined) return existing
    const { network } = this.#init
    const availability = new Availability(held.store.chunkCount)
    const announcer = network.joinContent(entry.cid, held.store.chunkCount, held.store.have)
    const { signal } = entry.controller
    // the view ignores banned peers itself: a ban by any reader holds for every source of claims
    announcer.addEventListener('bitfield', ({ detail }) => { availability.peerBitfield(detail.peer, detail.bitfield) }, { signal })
    announcer.addEventListener('have', ({ detail }) => { availability.peerHave(detail.peer, detail.indexes) }, { signal })
    announcer.addEventListener('leave', ({ detail }) => { availability.removePeer(detail.peer) }, { signal })
    network.provide(entry.cid, { signal }).catch(err => {
      if (!signal.aborted) this.#log.error('providing %s failed: %e', entry.key, err)
    })
    return { announcer, availability }
  }

  /** Leaves the content's topic (publishing LEAVE) and stops providing it. */
  async withdraw (entry: ContentEntry): Promise<void> {
    await entry.announced?.announcer.leave().catch(() => {})
    const { network } = this.#init
    if (!network.started) return
    await network.leaveContent(entry.cid).catch(() => {})
    await network.stopProviding(entry.cid).catch(() => {})
  }

  /** `peer` sent a bad chunk of `entry`'s content: it holds nothing of it for good, whatever it announces. */
  ban (entry: ContentEntry, peer: string): void {
    // the download has banned it in the view already; this covers bans from elsewhere too
    entry.announced?.availability.ban(peer)
  }

  /** A peer disconnected: it holds nothing any more as far as every content's view goes. */
  peerGone (entries: Iterable<ContentEntry>, peer: string): void {
    for (const entry of entries) entry.announced?.availability.removePeer(peer)
  }
}
