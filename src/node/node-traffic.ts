import { TokenBucket, UploadSlots } from '../swarm/index.js'
import { RateMeter } from './rate-meter.js'
import type { ShoalInit, SourceBytes } from './types.js'

/** A node's global transfer limits (rate caps, upload slots) and its byte counters. */
export class NodeTraffic {
  readonly uploadBucket: TokenBucket
  readonly downloadBucket: TokenBucket
  readonly uploadSlots: UploadSlots
  readonly uploaded = new RateMeter()
  readonly downloaded = new RateMeter()
  /** Verified bytes received since start, by source kind. */
  readonly received: SourceBytes = { origin: 0, peer: 0, upstream: 0 }

  constructor (init: ShoalInit) {
    this.uploadBucket = new TokenBucket({ rate: init.uploadLimit ?? 0 })
    this.downloadBucket = new TokenBucket({ rate: init.downloadLimit ?? 0 })
    this.uploadSlots = new UploadSlots({ slots: init.uploadSlots })
  }
}
