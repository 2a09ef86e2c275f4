import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { logger } from '@libp2p/logger'
import { ChunkLayout, decodeManifest, ManifestErrorCode, verifyChunk } from '../content/index.js'
import { netConstants } from '../net/index.js'
import type { ShoalNetwork } from '../net/index.js'
import { XferRejectedError } from '../net/xfer/index.js'
import type { XferProtocol } from '../net/xfer/index.js'
import { ChunkStore } from '../store/index.js'
import { ChunkNotHeldError, PeerBusyError, PeerDisconnectedError, SwarmSession } from '../swarm/index.js'
import type { TokenBucket } from '../swarm/index.js'
import { Bitfield } from '../util/bitfield.js'
import { isShoalError, ShoalError } from '../util/shoal-error.js'
import type { ContentEntry } from './content-entry.js'
import type { ContentRecords } from './content-records.js'
import {
  BITFIELD_REFRESH_MS, DEFAULT_FIND_TIMEOUT_MS, MANIFEST_RETRY_MS, NO_PEERS_TIMEOUT_MS,
  PEER_QUERY_TIMEOUT_MS, REDISCOVER_INTERVAL_MS
} from './constants.js'
import type { GetOptions, GetResult, ShoalEvents } from './types.js'

const log = logger('shoal:node:download')

/** The swarm session's latest download rate and active peers, for progress events. */
interface SessionRate {
  rateBps: number
  peers: number
}

export interface DownloaderInit {
  network: ShoalNetwork
  xfer: XferProtocol
  records: ContentRecords
  downloadBucket: TokenBucket
  maxPeersPerContent: number
  onDownloaded(bytes: number): void
  emit<K extends 'progress' | 'stalled' | 'banned'>(event: K, detail: ShoalEvents[K][0]): void
  /** Provide the CID and join its gossip topic (the node owns announcements). */
  publish(entry: ContentEntry): void
}

/**
 * Fetches one content: finds providers on the DHT, takes the manifest from the first one whose
 * bytes match the CID, opens the output store, then runs a swarm session fed by DHT providers,
 * gossip announcements and direct bitfield exchanges until every chunk is verified and written.
 */
export class Downloader {
  readonly #init: DownloaderInit

  constructor (init: DownloaderInit) {
    this.#init = init
  }

  async download (entry: ContentEntry, out: string, options: GetOptions & { signal: AbortSignal }): Promise<GetResult> {
    const started = Date.now()
    const { signal } = options
    let providers: string[] = []
    if (entry.store === undefined) {
      providers = await this.#fetchManifest(entry, options.findTimeoutMs ?? DEFAULT_FIND_TIMEOUT_MS, signal)
      await this.#openStore(entry, out, options.overwrite === true)
    }
    const store = entry.store!
    this.#init.publish(entry)
    const before = store.durable.count
    // Progress counts only durable chunks (journaled by a group commit): the figures shown are what
    // a kill at that moment would keep. Each commit reports, the final flush included.
    const latest: SessionRate = { rateBps: 0, peers: 0 }
    const offCommit = store.onCommit(() => { this.#emitProgress(entry, latest) })
    try {
      if (!store.complete) await this.#swarm(entry, providers, signal, latest)
      await store.flush()
    } catch (err) {
      // stopped or failed: commit what was written, so what ls says now is what a restart keeps
      await store.drain().catch(() => {})
      throw err
    } finally {
      offCommit()
    }
    return {
      cid: entry.key,
      path: entry.meta!.path,
      size: entry.manifest!.size,
      fetchedChunks: store.durable.count - before,
      elapsedMs: Date.now() - started
    }
  }

  /** Returns the peers that provide the content, after the manifest has been taken from one of them. */
  async #fetchManifest (entry: ContentEntry, timeoutMs: number, signal: AbortSignal): Promise<string[]> {
    const { network, xfer } = this.#init
    const started = Date.now()
    // Providers that failed to hand over bytes matching the CID: skipped for this content, so a
    // hostile provider costs one fetch, not one per retry.
    const failed = new Set<string>()
    for (;;) {
      signal.throwIfAborted()
      // The first provider is enough to take the manifest from; waiting for the whole DHT query
      // (up to its timeout) cost seconds before the first chunk. More peers arrive by gossip.
      const infos = await network.findProviders(entry.cid, { signal, timeoutMs: Math.min(netConstants.FIND_PROVIDERS_TIMEOUT_MS, timeoutMs), maxProviders: failed.size + 1 })
      const candidates = infos.map(info => info.id.toString()).filter(peer => !failed.has(peer))
      log('providers of %s after %d ms: %d', entry.key, Date.now() - started, candidates.length)
      for (const peer of candidates) {
        let bytes: Uint8Array
        try {
          bytes = await xfer.getManifest(peer, entry.cid, { signal: AbortSignal.any([signal, AbortSignal.timeout(PEER_QUERY_TIMEOUT_MS)]) })
        } catch (err) {
          signal.throwIfAborted()
          log('manifest of %s from %s failed: %e', entry.key, peer, err)
          continue
        }
        try {
          // checked against the CID before anything in it is trusted
          const manifest = decodeManifest(bytes, entry.cid)
          entry.manifest = manifest
          entry.manifestBytes = bytes
          entry.layout = new ChunkLayout(manifest)
          log('manifest of %s from %s: %d chunks', entry.key, peer, entry.layout.chunkCount)
          return candidates
        } catch (err) {
          // Bytes that hash to the CID but break a rule are the content itself: every honest
          // provider serves the same bytes, so asking others cannot help.
          if (isShoalError(err) && err.code !== ManifestErrorCode.CID_MISMATCH && err.code !== ManifestErrorCode.MANIFEST_TOO_LARGE) throw err
          log('manifest of %s from %s does not match the CID; not asking it again: %e', entry.key, peer, err)
          failed.add(peer)
        }
      }
      const elapsed = Date.now() - started
      const connected = network.connectedPeers().length
      if (connected === 0 && elapsed >= Math.min(timeoutMs, NO_PEERS_TIMEOUT_MS)) throw this.#unreachable()
      if (elapsed >= timeoutMs) {
        throw new ShoalError('ERR_NOT_FOUND', `no peer provides ${entry.key} (searched ${Math.round(elapsed / 1000)} s with ${connected} peer(s) connected${failed.size > 0 ? `, ${failed.size} sent a manifest not matching the CID` : ''}); check the CID and that a seeder is running`)
      }
      await sleep(MANIFEST_RETRY_MS, undefined, { signal })
    }
  }

  #unreachable (): ShoalError {
    const list = this.#init.network.config.bootstrap
    if (list.length === 0) {
      return new ShoalError('ERR_NO_PEERS', 'no peer is connected and no bootstrap node is configured; pass --bootstrap <multiaddr> (SHOAL_BOOTSTRAP)')
    }
    return new ShoalError('ERR_BOOTSTRAP_UNREACHABLE', `no bootstrap node answered (${list.join(', ')}); check the addresses and that a bootstrap node is running`)
  }

  async #openStore (entry: ContentEntry, out: string, overwrite: boolean): Promise<void> {
    const manifest = entry.manifest!
    // A one-file content is written as <out>/<name>; a folder as <out>/<name>/<its files>.
    const only = manifest.files[0]
    const singleFile = manifest.files.length === 1 && manifest.directories.length === 0 && only?.path === manifest.name
    const root = singleFile ? out : join(out, manifest.name)
    entry.meta = { cid: entry.key, mode: 'download', root, path: join(out, manifest.name), addedAt: Date.now() }
    // `out` is the user's choice and may be a symlink; `<out>/<name>` and below never are
    entry.store = await ChunkStore.open({ layout: manifest, root, base: out, overwrite, stateDir: this.#init.records.stateDir(entry.key), mode: 'download' })
    await this.#init.records.save({ meta: entry.meta, manifestBytes: entry.manifestBytes! })
  }

  /** Emits a progress event from the store's durable count and the session's latest rate. */
  #emitProgress (entry: ContentEntry, latest: SessionRate): void {
    const store = entry.store!
    const layout = entry.layout!
    const totalBytes = entry.manifest!.size
    const have = store.durable.count
    const bytes = Math.min(totalBytes, have === layout.chunkCount ? totalBytes : durableBytes(store.durable, layout))
    this.#init.emit('progress', {
      cid: entry.key,
      have,
      total: layout.chunkCount,
      bytes,
      totalBytes,
      rateBps: latest.rateBps,
      peers: latest.peers,
      etaSeconds: latest.rateBps > 0 ? (totalBytes - bytes) / latest.rateBps : undefined
    })
  }

  async #swarm (entry: ContentEntry, providers: string[], signal: AbortSignal, latest: SessionRate): Promise<void> {
    const { network, xfer, downloadBucket } = this.#init
    const store = entry.store!
    const layout = entry.layout!
    const announcer = entry.announcer!
    const session = new SwarmSession({
      transport: { requestChunk: async (peer, index, o) => await this.#request(entry, peer, index, o.signal) },
      sink: {
        have: store.have,
        verify: (index, data) => verifyChunk(layout, index, data),
        // verify() above has just hashed this buffer against the manifest; the store need not again
        write: async (index, data) => { await store.write(index, data, { verified: true }) }
      },
      chunkSize: layout.chunkSize,
      maxActivePeers: this.#init.maxPeersPerContent,
      throttleDownload: async (bytes, o) => { await downloadBucket.take(bytes, o) }
    })
    entry.session = session
    const known = new Set<string>()
    const addPeer = (peer: string, bitfield?: Bitfield): void => {
      if (session.isBanned(peer)) return
      if (known.has(peer)) {
        if (bitfield !== undefined) session.peerBitfield(peer, bitfield)
        return
      }
      known.add(peer)
      entry.peers.add(peer)
      session.addPeer(peer, bitfield)
    }
    const probe = async (peer: string): Promise<void> => {
      const last = entry.bitfieldAsked.get(peer) ?? 0
      if (session.isBanned(peer) || Date.now() - last < BITFIELD_REFRESH_MS) return
      entry.bitfieldAsked.set(peer, Date.now())
      try {
        const answer = await xfer.getBitfield(peer, entry.cid, { signal: AbortSignal.any([signal, AbortSignal.timeout(PEER_QUERY_TIMEOUT_MS)]) })
        if (answer.chunkCount !== layout.chunkCount) throw new Error(`bitfield of ${answer.chunkCount} chunks, expected ${layout.chunkCount}`)
        addPeer(peer, new Bitfield(answer.chunkCount, answer.bytes))
      } catch (err) {
        if (!signal.aborted) log('bitfield of %s from %s failed: %e', entry.key, peer, err)
      }
    }

    const unsubscribe = [
      announcer.on('bitfield', ({ peer, bitfield }) => { addPeer(peer, bitfield) }),
      announcer.on('have', ({ peer, indexes }) => {
        addPeer(peer)
        session.peerHave(peer, indexes)
      }),
      announcer.on('leave', ({ peer }) => {
        known.delete(peer)
        entry.peers.delete(peer)
        session.removePeer(peer)
      }),
      network.on('peer:disconnect', peerId => {
        const peer = peerId.toString()
        known.delete(peer)
        entry.peers.delete(peer)
        session.removePeer(peer)
      })
    ]
    // renewed by #rediscover after each wake-up, so every stall (not only the first) wakes it
    const wake = { controller: new AbortController() }
    session.addEventListener('chunk', ({ detail }) => {
      const bytes = layout.chunkLength(detail.index)
      announcer.announceHave(detail.index)
      entry.downloaded.add(bytes)
      this.#init.onDownloaded(bytes)
    })
    session.addEventListener('progress', ({ detail }) => {
      latest.rateBps = detail.rateBps
      latest.peers = detail.peers
      this.#emitProgress(entry, latest)
    })
    session.addEventListener('stalled', ({ detail }) => {
      // nothing more is coming for now: commit at once rather than at the next interval, so the
      // durable count shown while stalled is everything received
      store.drain().catch(err => { log('flush of %s on stall failed: %e', entry.key, err) })
      this.#init.emit('stalled', { cid: entry.key, missing: detail.missing, missingIndexes: detail.missingIndexes })
      // look for new providers now rather than at the next interval
      wake.controller.abort()
    })
    session.addEventListener('dropped', ({ detail }) => {
      // forgotten here too, so the next probe or announcement re-admits it with a clean record;
      // otherwise a sole provider dropped for timeouts would never be asked again
      known.delete(detail.peer)
      entry.peers.delete(detail.peer)
    })
    session.addEventListener('banned', ({ detail }) => {
      log.error('banned %s for %s: %s', detail.peer, entry.key, detail.reason)
      this.#init.emit('banned', { cid: entry.key, peer: detail.peer, reason: detail.reason })
    })

    for (const [peer, bitfield] of announcer.view) addPeer(peer, bitfield)
    // Start with the first provider's bitfield known, so the session does not begin by reporting a
    // stall; the other probes go on in the background.
    const probes = providers.map(async peer => {
      await probe(peer)
      if (!known.has(peer)) throw new Error(`no bitfield from ${peer}`)
    })
    await Promise.any(probes).catch(() => {})
    const done = new AbortController()
    const rediscover = this.#rediscover(entry, probe, AbortSignal.any([signal, done.signal]), wake)
    try {
      await session.run({ signal })
    } finally {
      done.abort()
      await rediscover
      for (const off of unsubscribe) off()
      entry.session = undefined
    }
  }

  /** Asks the DHT for providers at once, then every interval (or at once when the session stalls). */
  async #rediscover (entry: ContentEntry, probe: (peer: string) => Promise<void>, signal: AbortSignal, wake: { controller: AbortController }): Promise<void> {
    // The first lookup runs at once: the manifest came from the first provider found, and the other
    // providers (receivers provide as soon as they start) are the trading partners worth knowing now.
    let first = true
    while (!signal.aborted) {
      if (!first) await sleep(REDISCOVER_INTERVAL_MS, undefined, { signal: AbortSignal.any([signal, wake.controller.signal]) }).catch(() => {})
      first = false
      if (signal.aborted) return
      if (wake.controller.signal.aborted) wake.controller = new AbortController()
      try {
        const infos = await this.#init.network.findProviders(entry.cid, { signal })
        await Promise.all(infos.map(async info => { await probe(info.id.toString()) }))
      } catch (err) {
        if (!signal.aborted) log('rediscovery for %s failed: %e', entry.key, err)
      }
    }
  }

  /** One chunk from one peer, with xfer's errors translated to what the swarm session acts on. */
  async #request (entry: ContentEntry, peer: string, index: number, signal: AbortSignal): Promise<Uint8Array> {
    try {
      return await this.#init.xfer.requestChunk(peer, entry.cid, index, { signal })
    } catch (err) {
      if (err instanceof XferRejectedError) {
        if (err.reason === 'busy' || err.reason === 'shutting-down') throw new PeerBusyError(peer)
        if (err.reason === 'not-held' || err.reason === 'source-changed') throw new ChunkNotHeldError(peer, index)
      }
      if (isShoalError(err, 'ERR_XFER_STREAM')) throw new PeerDisconnectedError(peer)
      throw err
    }
  }
}

function durableBytes (durable: Bitfield, layout: ChunkLayout): number {
  // full chunks are chunkSize; only last chunks of files are short, so this is exact enough and O(1)
  return durable.count * layout.chunkSize
}
