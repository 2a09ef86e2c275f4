import { TokenBucket, UploadSlots } from '../swarm/index.js'
import { RateMeter } from './rate-meter.js'
import type { ShoalInit } from './types.js'

/** A node's global transfer limits (rate caps, upload slots) and its byte counters. */
export class NodeTraffic {
  readonly uploadBucket: TokenBucket
  readonly downloadBucket: TokenBucket
  readonly uploadSlots: UploadSlots
  readonly uploaded = new RateMeter()
  readonly downloaded = new RateMeter()

  constructor (init: ShoalInit) {
    this.uploadBucket = new TokenBucket({ rate: init.uploadLimit ?? 0 })
    this.downloadBucket = new TokenBucket({ rate: init.downloadLimit ?? 0 })
    this.uploadSlots = new UploadSlots({ slots: init.uploadSlots })
  }
}
