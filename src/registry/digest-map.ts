import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ShoalNode } from '../node/shoal-node.js'
import { REGISTRY_STATE_DIR } from './constants.js'
import { aliasCidOf } from './oci-digest.js'
import type { OciDigest } from './oci-digest.js'

/** A blob (or manifest) this node holds as a shoal content, checked against its digest. */
export interface HeldDigest {
  digest: OciDigest
  cid: string
  /** The one file of the content. */
  path: string
  size: number
}

/**
 * Which shoal content holds each digest this node verified: `<dataDir>/registry/digests/<hex>`
 * holds the content's CID. Written only after the whole file matched the digest, so a record is
 * trusted across restarts; a content that is gone (evicted, removed) drops its record when asked.
 */
export class DigestMap {
  readonly #node: ShoalNode
  readonly #dir: string
  readonly #cids = new Map<string, string>()

  constructor (node: ShoalNode) {
    this.#node = node
    this.#dir = join(node.init.dataDir, REGISTRY_STATE_DIR, 'digests')
  }

  /** Reads the records and provides the alias of every digest still held. */
  async load (): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 })
    // an evicted blob stops being offered under its alias at once, not at its next request
    this.#node.addEventListener('evicted', ({ detail }) => {
      for (const [hex, cid] of this.#cids) {
        if (cid === detail.cid) void this.delete({ text: `sha256:${hex}`, hex })
      }
    })
    for (const name of await readdir(this.#dir)) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue
      const cid = (await readFile(join(this.#dir, name), 'utf8')).trim()
      this.#cids.set(name, cid)
    }
    for (const [hex, cid] of this.#cids) {
      const held = await this.held({ text: `sha256:${hex}`, hex })
      if (held !== undefined) this.#node.aliases.set(aliasCidOf(held.digest), cid)
    }
  }

  /** The held content of `digest`, if the node still holds it complete. */
  async held (digest: OciDigest): Promise<HeldDigest | undefined> {
    const cid = this.#cids.get(digest.hex)
    if (cid === undefined) return undefined
    const info = (await this.#node.ls()).find(c => c.cid === cid)
    if (info !== undefined && (info.state === 'seeding' || info.state === 'complete') && info.have === info.chunks) {
      return { digest, cid, path: info.path, size: info.size }
    }
    if (info === undefined) await this.delete(digest)
    return undefined
  }

  /** Records that `cid` holds `digest` (after its bytes matched) and provides the alias. */
  async put (digest: OciDigest, cid: string): Promise<void> {
    await writeFile(join(this.#dir, digest.hex), cid + '\n', { mode: 0o600 })
    this.#cids.set(digest.hex, cid)
    this.#node.aliases.set(aliasCidOf(digest), cid)
  }

  /** Forgets the record of `digest`; its alias is no longer answered from the moment this is called. */
  async delete (digest: OciDigest): Promise<void> {
    this.#cids.delete(digest.hex)
    const unaliased = this.#node.aliases.delete(aliasCidOf(digest))
    await rm(join(this.#dir, digest.hex), { force: true })
    await unaliased
  }
}
