import { setTimeout as sleep } from 'node:timers/promises'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import { decodeManifest, ManifestErrorCode, verifyChunk } from '../content/index.js'
import type { ChunkLayout } from '../content/index.js'
import { netConstants, XferAbortedError, XferRejectedError, XferTimeoutError } from '../net/index.js'
import type { ChunkRequestOptions, NetworkApi, XferBitfield } from '../net/index.js'
import { ChunkNotHeldError, PeerBusyError, PeerDisconnectedError, SwarmSession } from '../swarm/index.js'
import type { TokenBucket } from '../swarm/index.js'
import { Bitfield } from '../util/bitfield.js'
import { isShoalError, ShoalError } from '../util/shoal-error.js'
import type { AnnouncedContent, ContentEntry, HeldContent } from './content-entry.js'
import type { ContentOpener, VerifiedManifest } from './content-opener.js'
import { peerShareField } from './content-sources.js'
import {
  BITFIELD_REFRESH_MS, CONNECTED_MANIFEST_ASKS, DEFAULT_FIND_TIMEOUT_MS, MANIFEST_RETRY_MS, NO_PEERS_TIMEOUT_MS,
  PEER_QUERY_TIMEOUT_MS, REDISCOVER_INTERVAL_MS
} from './constants.js'
import type { ChunkRequestOutcome, GetOptions, GetResult, NodeObserver, ShoalEvents, SourceKind } from './types.js'

/** The swarm session's latest download rate and active peers, for progress events. */
interface SessionRate {
  rateBps: number
  peers: number
}

/** The manifest, who provides the content, and the bitfield of the peer that sent the manifest, asked for at once. */
interface FoundManifest {
  providers: string[]
  manifest: VerifiedManifest
  /** Asked of providers[0] as soon as its manifest arrived, so the answer overlaps opening the store. */
  firstBitfield?: Promise<XferBitfield>
}

export interface DownloaderInit {
  network: NetworkApi
  opener: ContentOpener
  downloadBucket: TokenBucket
  maxPeersPerContent: number
  onDownloaded(bytes: number): void
  /** Verified bytes by source kind, for the node's totals. */
  onReceived?(kind: SourceKind, bytes: number): void
  /** The node's metrics hooks (chunk request outcomes and latency). */
  observer?: NodeObserver
  emit<K extends 'progress' | 'stalled' | 'banned'>(event: K, detail: ShoalEvents[K]['detail']): void
  /** Provide the CID and join its gossip topic (the node owns announcements). */
  publish(entry: ContentEntry, held: HeldContent): AnnouncedContent
  /** A chunk write under `root` found the disk full: frees space if it can (true: try the write again). */
  makeRoom?(root: string): Promise<boolean>
  logger: ComponentLogger
}

/**
 * Fetches one content: finds providers on the DHT, takes the manifest from the first one whose
 * bytes match the CID, opens the output store, then runs a swarm session fed by DHT providers,
 * gossip announcements and direct bitfield exchanges until every chunk is verified and written.
 */
export class Downloader {
  readonly #init: DownloaderInit
  readonly #log: Logger
  /** When each answered request was sent, so its outcome (ok or bad chunk) is counted at verification. */
  readonly #answered = new WeakMap<Uint8Array, number>()

  constructor (init: DownloaderInit) {
    this.#init = init
    this.#log = init.logger.forComponent('shoal:node:download')
  }

  async download (entry: ContentEntry, out: string, options: GetOptions & { signal: AbortSignal }): Promise<GetResult> {
    const started = Date.now()
    const { signal } = options
    let providers: string[] = []
    let firstBitfield: Promise<XferBitfield> | undefined
    let held = entry.held
    if (held === undefined) {
      // the start path's first step: the time from a caller's get to here is not the network's
      this.#log('looking for the manifest of %s (%d peer(s) connected)', entry.key, this.#init.network.connectedPeers().length)
      const found = await this.#fetchManifest(entry, options.findTimeoutMs ?? DEFAULT_FIND_TIMEOUT_MS, signal, options.peers)
      providers = found.providers
      firstBitfield = found.firstBitfield
      held = await this.#init.opener.openDownload(entry.cid, out, options.overwrite === true, found.manifest)
    }
    const announced = this.#init.publish(entry, held)
    entry.toDownloading(held, announced)
    const { store } = held
    const before = store.durable.count
    // Progress counts only durable chunks (journaled by a group commit): the figures shown are what
    // a kill at that moment would keep. Each commit reports, the final flush included.
    const latest: SessionRate = { rateBps: 0, peers: 0 }
    const offCommit = store.onCommit(() => { this.#emitProgress(entry, held, latest) })
    try {
      if (!store.complete) await this.#swarm(entry, held, announced, providers, signal, latest, firstBitfield)
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
      path: held.meta.path,
      size: held.manifest.size,
      fetchedChunks: store.durable.count - before,
      elapsedMs: Date.now() - started,
      received: entry.sources.received,
      ...peerShareField(entry.sources.received)
    }
  }

  /**
   * Returns the peers that provide the content, after the manifest has been taken from one of them:
   * from the DHT's providers, or from a peer already connected or named by the caller
   * (GetOptions.peers) if one answers first.
   */
  async #fetchManifest (entry: ContentEntry, timeoutMs: number, signal: AbortSignal, hinted: string[] = []): Promise<FoundManifest> {
    // Providers that failed to hand over bytes matching the CID: skipped for this content, so a
    // hostile provider costs one fetch, not one per retry.
    const failed = new Set<string>()
    const race = new AbortController()
    const raceSignal = AbortSignal.any([signal, race.signal])
    try {
      const found = await Promise.any([
        this.#manifestFromProviders(entry, timeoutMs, raceSignal, failed),
        this.#manifestFromConnected(entry, raceSignal, failed, hinted)
      ])
      const first = found.providers[0]
      if (first === undefined) return found
      // The session's first request waits for this answer; asked now, its round trip (behind the
      // provider's busy uplink) runs while the store opens instead of after.
      const firstBitfield = this.#init.network.getBitfield(first, entry.cid, { signal: AbortSignal.any([signal, AbortSignal.timeout(PEER_QUERY_TIMEOUT_MS)]) })
      firstBitfield.catch(() => {})
      return { ...found, firstBitfield }
    } catch (err) {
      signal.throwIfAborted()
      // the DHT's answer (not found, unreachable, a broken manifest) is the one that explains
      throw (err as AggregateError).errors?.[0] ?? err
    } finally {
      race.abort()
    }
  }

  /**
   * Asks the first connected peers for the manifest at once. In a fleet every agent is connected
   * before the content exists: the DHT lookup took ~0.9 s of the 1.1-1.3 s to the manifest (warm
   * bench, 2026-12-02) while the origin was one stream away. Rejects when none of them serves it.
   */
  async #manifestFromConnected (entry: ContentEntry, signal: AbortSignal, failed: Set<string>, hinted: string[]): Promise<FoundManifest> {
    const { network } = this.#init
    // peers the caller named are asked too: a DHT lookup takes seconds while links are full
    const peers = [...new Set([...hinted, ...network.connectedPeers().slice(0, CONNECTED_MANIFEST_ASKS).map(p => p.toString())])]
    const started = Date.now()
    return await Promise.any(peers.map(async peer => {
      const bytes = await network.getManifest(peer, entry.cid, { signal: AbortSignal.any([signal, AbortSignal.timeout(PEER_QUERY_TIMEOUT_MS)]) })
      try {
        const manifest = decodeManifest(bytes, entry.cid)
        this.#log('manifest of %s from %s: %d bytes (a connected peer, after %d ms)', entry.key, peer, manifest.size, Date.now() - started)
        // Every peer asked is probed for its bitfield, not only the one that answered first: in a
        // fleet that may be a receiver that opened its store a moment ago and holds nothing yet, and
        // a session that knows only it waits for gossip to learn of the origin (warm bench: first
        // chunks 10-22 s after the add).
        return { providers: [peer, ...peers.filter(p => p !== peer)], manifest: { manifest, bytes } }
      } catch (err) {
        // a broken manifest that matches the CID is the content's own: the DHT path reports it
        if (isShoalError(err, ManifestErrorCode.CID_MISMATCH)) failed.add(peer)
        throw err
      }
    }))
  }

  async #manifestFromProviders (entry: ContentEntry, timeoutMs: number, signal: AbortSignal, failed: Set<string>): Promise<FoundManifest> {
    const { network } = this.#init
    const log = this.#log
    const started = Date.now()
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
          bytes = await network.getManifest(peer, entry.cid, { signal: AbortSignal.any([signal, AbortSignal.timeout(PEER_QUERY_TIMEOUT_MS)]) })
        } catch (err) {
          signal.throwIfAborted()
          log('manifest of %s from %s failed: %e', entry.key, peer, err)
          continue
        }
        try {
          // checked against the CID before anything in it is trusted
          const manifest = decodeManifest(bytes, entry.cid)
          log('manifest of %s from %s: %d bytes', entry.key, peer, manifest.size)
          // the peer that answered goes first: its bitfield is asked for at once
          return { providers: [peer, ...candidates.filter(p => p !== peer)], manifest: { manifest, bytes } }
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

  /** Emits a progress event from the store's durable count and the session's latest rate. */
  #emitProgress (entry: ContentEntry, held: HeldContent, latest: SessionRate): void {
    const { store, layout } = held
    const totalBytes = held.manifest.size
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

  async #swarm (entry: ContentEntry, held: HeldContent, announced: AnnouncedContent, providers: string[], signal: AbortSignal, latest: SessionRate, firstBitfield?: Promise<XferBitfield>): Promise<void> {
    const { network, downloadBucket } = this.#init
    const log = this.#log
    const { store, layout } = held
    const { announcer, availability } = announced
    const session = new SwarmSession({
      // the node's view of this content, fed from gossip by ContentAnnouncements: one view, and a
      // ban here removes the peer's holdings from what the node's other readers see
      availability,
      transport: { requestChunk: async (peer, index, o) => await this.#request(entry, peer, index, o) },
      sink: {
        have: store.have,
        verify: (index, data) => {
          const ok = verifyChunk(layout, index, data)
          if (this.#answered.delete(data)) this.#init.observer?.chunkRequest?.(ok ? 'ok' : 'bad-chunk')
          return ok
        },
        // verify() above has just hashed this buffer against the manifest; the store need not again.
        // Once written nothing holds the buffer, so the network reuses it for a later chunk.
        write: async (index, data) => {
          await this.#write(held, index, data)
          network.releaseChunk(data)
        }
      },
      chunkSize: layout.chunkSize,
      maxActivePeers: this.#init.maxPeersPerContent,
      throttleDownload: async (bytes, o) => { await downloadBucket.take(bytes, o) },
      logger: this.#init.logger
    })
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
    /**
     * Asks `peer` for its bitfield (or takes `asked`, the answer to a request already sent) and adds
     * it; resolves with the number of chunks it offers (0 when it did not answer).
     */
    const probe = async (peer: string, asked?: Promise<XferBitfield>): Promise<number> => {
      const last = entry.bitfieldAsked.get(peer) ?? 0
      if (session.isBanned(peer) || (asked === undefined && Date.now() - last < BITFIELD_REFRESH_MS)) return 0
      entry.bitfieldAsked.set(peer, Date.now())
      try {
        const answer = await (asked ?? network.getBitfield(peer, entry.cid, { signal: AbortSignal.any([signal, AbortSignal.timeout(PEER_QUERY_TIMEOUT_MS)]) }))
        if (answer.chunkCount !== layout.chunkCount) throw new Error(`bitfield of ${answer.chunkCount} chunks, expected ${layout.chunkCount}`)
        if (answer.origin === true) entry.sources.markOrigin(peer)
        const bitfield = new Bitfield(answer.chunkCount, answer.bytes)
        addPeer(peer, bitfield)
        return bitfield.count
      } catch (err) {
        // a refusal is an answer (most often: that peer does not hold the content yet), not a fault to trace
        if (!signal.aborted) log('bitfield of %s from %s failed: %s', entry.key, peer, err instanceof XferRejectedError ? err.message : err)
        return 0
      }
    }

    // every listener on the announcer and the network goes when this download ends
    const listening = new AbortController()
    const on = { signal: listening.signal }
    const forget = (peer: string): void => {
      known.delete(peer)
      entry.peers.delete(peer)
      session.removePeer(peer)
    }
    // what they announced is in the view already (ContentAnnouncements listens first); the session
    // needs to know the peer to ask it
    announcer.addEventListener('bitfield', ({ detail }) => { addPeer(detail.peer) }, on)
    announcer.addEventListener('have', ({ detail }) => { addPeer(detail.peer) }, on)
    announcer.addEventListener('leave', ({ detail }) => { forget(detail.peer) }, on)
    network.addEventListener('peer:disconnect', ({ detail }) => { forget(detail.toString()) }, on)
    // renewed by #rediscover after each wake-up, so every stall (not only the first) wakes it
    const wake = { controller: new AbortController() }
    // the start path's steps, timed from here (the store is open, the topic joined): time to first chunk
    const swarmStarted = Date.now()
    let first = true
    session.addEventListener('chunk', ({ detail }) => {
      if (first) {
        first = false
        log('first chunk of %s from %s after %d ms', entry.key, detail.peer, Date.now() - swarmStarted)
      }
      const bytes = layout.chunkLength(detail.index)
      announcer.announceHave(detail.index)
      entry.downloaded.add(bytes)
      this.#init.onDownloaded(bytes)
      this.#init.onReceived?.(entry.sources.receivedFromPeer(detail.peer, bytes), bytes)
      entry.reads.notify()
    })
    session.addEventListener('progress', ({ detail }) => {
      latest.rateBps = detail.rateBps
      latest.peers = detail.peers
      this.#emitProgress(entry, held, latest)
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
      entry.noteBanned(detail.peer)
      this.#init.emit('banned', { cid: entry.key, peer: detail.peer, reason: detail.reason })
    })

    for (const peer of [...availability.peers()]) addPeer(peer)
    // Start once some provider offers a chunk, so the session does not begin by reporting a stall
    // (nor with only peers that hold nothing yet); the other probes go on in the background.
    const probes = providers.map(async (peer, i) => {
      if (await probe(peer, i === 0 ? firstBitfield : undefined) === 0) throw new Error(`no chunk offered by ${peer}`)
    })
    await Promise.any(probes).catch(() => {})
    log('bitfields of %s: %d of %d provider(s) after %d ms', entry.key, providers.filter(p => known.has(p)).length, providers.length, Date.now() - swarmStarted)
    const done = new AbortController()
    const rediscover = this.#rediscover(entry, probe, AbortSignal.any([signal, done.signal]), wake)
    // chunks a reader streams (the data plane's Range) are asked for first
    const detachReads = entry.reads.attach(indexes => { session.prioritize(indexes) })
    try {
      await session.run({ signal })
    } finally {
      detachReads()
      done.abort()
      await rediscover
      listening.abort()
    }
  }

  /** Writes a verified chunk; on a full disk, once more after the node made room (else ERR_DISK_FULL stops this download). */
  async #write (held: HeldContent, index: number, data: Uint8Array): Promise<void> {
    try {
      await held.store.write(index, data, { verified: true })
    } catch (err) {
      if (!isShoalError(err, 'ERR_DISK_FULL') || this.#init.makeRoom === undefined || !(await this.#init.makeRoom(held.meta.root))) throw err
      await held.store.write(index, data, { verified: true })
    }
  }

  /** Asks the DHT for providers at once, then every interval (or at once when the session stalls). */
  async #rediscover (entry: ContentEntry, probe: (peer: string) => Promise<unknown>, signal: AbortSignal, wake: { controller: AbortController }): Promise<void> {
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
        if (!signal.aborted) this.#log('rediscovery for %s failed: %e', entry.key, err)
      }
    }
  }

  /** One chunk from one peer, with xfer's errors translated to what the swarm session acts on. */
  async #request (entry: ContentEntry, peer: string, index: number, options: ChunkRequestOptions & { signal: AbortSignal }): Promise<Uint8Array> {
    const signal = options.signal
    const started = performance.now()
    entry.inflight.set(index, (entry.inflight.get(index) ?? 0) + 1)
    try {
      const data = await this.#init.network.requestChunk(peer, entry.cid, index, options)
      this.#answered.set(data, started)
      this.#init.observer?.chunkRequest?.('ok', (performance.now() - started) / 1000)
      return data
    } catch (err) {
      this.#init.observer?.chunkRequest?.(outcomeOf(err, signal))
      if (err instanceof XferRejectedError) {
        if (err.reason === 'busy' || err.reason === 'shutting-down') throw new PeerBusyError(peer)
        if (err.reason === 'not-held' || err.reason === 'source-changed') throw new ChunkNotHeldError(peer, index)
      }
      if (isShoalError(err, 'ERR_XFER_STREAM')) throw new PeerDisconnectedError(peer)
      throw err
    } finally {
      const left = (entry.inflight.get(index) ?? 1) - 1
      if (left <= 0) entry.inflight.delete(index)
      else entry.inflight.set(index, left)
    }
  }
}

function durableBytes (durable: Bitfield, layout: ChunkLayout): number {
  // full chunks are chunkSize; only last chunks of files are short, so this is exact enough and O(1)
  return durable.count * layout.chunkSize
}

/** How a failed chunk request is counted. */
function outcomeOf (err: unknown, signal: AbortSignal): ChunkRequestOutcome {
  if (signal.aborted || err instanceof XferAbortedError) return 'aborted'
  if (err instanceof XferRejectedError) {
    if (err.reason === 'busy' || err.reason === 'shutting-down') return 'busy'
    if (err.reason === 'not-held' || err.reason === 'source-changed') return 'not-held'
    if (err.reason === 'elsewhere') return 'elsewhere'
    return 'error'
  }
  if (err instanceof XferTimeoutError) return 'timeout'
  if (isShoalError(err, 'ERR_XFER_STREAM')) return 'disconnected'
  return 'error'
}
