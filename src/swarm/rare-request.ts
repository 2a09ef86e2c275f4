import { RARE_ADMIT_BACKLOG, RARE_ADMIT_HOLDERS } from './constants.js'

export interface RareRequestInit {
  /** At most this many known holders make a chunk rare. Default RARE_ADMIT_HOLDERS (0: never, the rule is off). */
  holders?: number
  /** No rare admission from this many admitted, unsent uploads on. Default RARE_ADMIT_BACKLOG. */
  backlog?: number
}

/**
 * True when a request for a chunk `holders` peers are known to hold (the holder's gossip view, itself
 * not counted) should pass the upload slots (UploadSlots.acquire's `rare`): a chunk few hold is
 * where the swarm's spread waits, and a 'busy' costs it a back-off per generation. `backlog`: the
 * uploads admitted and not yet sent (UploadBacklog.size), which bounds the queue this adds to.
 */
export function rareRequest (holders: number, backlog: number, init: RareRequestInit = {}): boolean {
  const limit = init.holders ?? RARE_ADMIT_HOLDERS
  return limit > 0 && holders <= limit && backlog < (init.backlog ?? RARE_ADMIT_BACKLOG)
}
