import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { ShoalNetwork } from '../../src/net/index.js'
import type { HaveAnnouncer, NodeConfigInput } from '../../src/net/index.js'
import { Availability } from '../../src/swarm/index.js'

/** Tracks temp dirs and networks so `cleanup()` in after() removes all of them. */
export class Harness {
  readonly dirs: string[] = []
  readonly nets: ShoalNetwork[] = []

  async tempDir (): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-net-'))
    this.dirs.push(dir)
    return dir
  }

  /** A not-yet-started network on 127.0.0.1 with its own data dir. */
  async network (overrides: Partial<NodeConfigInput> = {}): Promise<ShoalNetwork> {
    const net = new ShoalNetwork({ dataDir: await this.tempDir(), listen: ['/ip4/127.0.0.1/tcp/0'], ...overrides })
    this.nets.push(net)
    return net
  }

  async cleanup (): Promise<void> {
    await Promise.all(this.nets.map(async n => n.stop().catch(() => {})))
    await Promise.all(this.dirs.map(async d => rm(d, { recursive: true, force: true })))
  }
}

/** A raw-codec CIDv1 of `text`: a content id for gossip and DHT tests that need no manifest. */
export async function cidOf (text: string): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(text)))
}

/** A TCP port that was free a moment ago. */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => { resolve(port) })
    })
  })
}

/** Polls `check` every 50 ms until it returns true; fails after `timeoutMs` with `what`. */
export async function waitFor (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/**
 * An availability view fed from `announcer`'s events, as the node keeps one per content (the
 * announcer itself keeps none).
 */
export function viewOf (announcer: HaveAnnouncer): Availability {
  const view = new Availability(announcer.chunkCount)
  announcer.addEventListener('bitfield', ({ detail }) => { view.peerBitfield(detail.peer, detail.bitfield) })
  announcer.addEventListener('have', ({ detail }) => { view.peerHave(detail.peer, detail.indexes) })
  announcer.addEventListener('leave', ({ detail }) => { view.removePeer(detail.peer) })
  return view
}
