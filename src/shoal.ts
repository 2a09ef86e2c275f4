import { stat } from 'node:fs/promises'
import { parseCid } from './content/index.js'
import { ShoalNode } from './node/shoal-node.js'
import { ShoalError } from './util/shoal-error.js'
import type { AddResult, GetOptions, ShoalInit } from './node/types.js'

/** Options of `Shoal.seed`; `out`, `signal` and `onProgress` apply when a CID has to be fetched first. */
export interface SeedOptions extends GetOptions {
  chunkSize?: number
}

/**
 * The programmatic face of a shoal node: everything `ShoalNode` does (start/stop, add, get, ls,
 * status, remove, typed events progress/peer/stalled/banned/done/error through libp2p's
 * `addEventListener`) plus `seed`. The CLI, the daemon and this class all drive the same node code.
 */
export class Shoal extends ShoalNode {
  /**
   * Serves content for as long as the node runs. `target` is a path (a file or folder, added and
   * seeded in place) or a CID (held already: kept seeded; not held: fetched into `options.out`, then
   * seeded). An existing path wins over a string that also parses as a CID.
   */
  async seed (target: string, options: SeedOptions = {}): Promise<AddResult> {
    const isPath = await stat(target).then(() => true, () => false)
    if (isPath) return await this.add(target, { chunkSize: options.chunkSize, signal: options.signal })
    const cid = parseCid(target).toString()
    const held = (await this.ls()).find(c => c.cid === cid && (c.state === 'seeding' || c.state === 'complete'))
    if (held === undefined) await this.get(cid, options)
    const info = (await this.ls()).find(c => c.cid === cid)
    if (info === undefined) throw new ShoalError('ERR_NOT_FOUND', `content ${cid} was removed while being seeded; seed it again`)
    return { cid, name: info.name, path: info.path, size: info.size, chunks: info.chunks }
  }
}

/** Creates an unstarted shoal node; call `start()` before `get`, `add` works either way. */
export function createShoal (init: ShoalInit = {}): Shoal {
  return new Shoal(init)
}
