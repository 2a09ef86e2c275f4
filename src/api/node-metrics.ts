import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { ShoalNode } from '../node/shoal-node.js'
import type { ChunkRequestOutcome, ContentInfo, ContentState, EvictionReason, NodeStatus, SourceKind } from '../node/types.js'

/** What one scrape reads from the node, once, before every collect() runs. */
interface Snapshot {
  status: NodeStatus
  contents: ContentInfo[]
}

const CONTENT_STATES: ContentState[] = ['seeding', 'downloading', 'stalled', 'complete', 'stopped', 'error']
const SOURCE_KINDS: SourceKind[] = ['origin', 'peer', 'upstream']
const EVICTION_REASONS: EvictionReason[] = ['quota', 'tti', 'ttl', 'disk-full']
const REQUEST_OUTCOMES: ChunkRequestOutcome[] = ['ok', 'busy', 'not-held', 'elsewhere', 'timeout', 'bad-chunk', 'disconnected', 'aborted', 'error']
// a 256 KiB chunk takes ~2 ms on loopback and seconds over a slow WAN link
const REQUEST_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
// a DHT lookup answers in milliseconds on a LAN and runs to its timeout (10 s) when nobody provides
const DHT_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/**
 * Prometheus metrics of one node (docs/observability.md lists them). Figures the node keeps are read
 * from one status/ls snapshot per scrape; events (requests, gossip, DHT queries, bans, stalls) are
 * counted as they happen through the node's observer hooks. No CID or peer id is ever a label. Each
 * node gets its own Registry: prom-client's global one would mix two nodes in one process.
 */
export class NodeMetrics {
  readonly #registry: Registry
  readonly #node: ShoalNode
  #snapshot: Snapshot = { status: undefined as unknown as NodeStatus, contents: [] }
  readonly #closers: Array<() => void> = []

  /** `registry`: one that libp2p's own metrics also write to (SHOAL_LIBP2P_METRICS); a new one by default. */
  constructor (node: ShoalNode, registry: Registry = new Registry()) {
    this.#registry = registry
    this.#node = node
    const status = (): NodeStatus => this.#snapshot.status

    // node figures, read at scrape time
    this.gauge('shoal_peers', 'connected libp2p peers', () => status().peers)
    this.gauge('shoal_contents', 'contents held or being fetched', () => status().contents)
    this.gauge('shoal_upload_rate_bytes', 'upload rate over the last seconds, bytes/s', () => status().uploadRateBps)
    this.gauge('shoal_download_rate_bytes', 'download rate over the last seconds, bytes/s', () => status().downloadRateBps)
    this.gauge('shoal_uptime_seconds', 'seconds since the node started', () => status().uptimeMs / 1000)
    this.counter('shoal_uploaded_bytes_total', 'chunk bytes sent to peers', () => status().uploadedBytes)
    this.counter('shoal_downloaded_bytes_total', 'verified chunk bytes received from peers', () => status().downloadedBytes)
    this.labelledCounter('shoal_received_bytes_total', 'verified bytes received, by source (origin: a peer that says it published the content; peer: any other; upstream: outside the swarm)',
      'source', SOURCE_KINDS, kind => status().received[kind as SourceKind])
    this.counter('shoal_sent_bytes_total', 'chunk bytes sent to peers (same figure as shoal_uploaded_bytes_total, named for dashboards pairing it with shoal_received_bytes_total)', () => status().uploadedBytes)
    this.labelledGauge('shoal_contents_by_state', 'contents by state', 'state', CONTENT_STATES,
      state => this.#snapshot.contents.filter(c => c.state === state).length)
    this.gauge('shoal_held_bytes', 'bytes of verified chunks held on disk, over every content', () =>
      this.#snapshot.contents.reduce((sum, c) => sum + Math.min(c.size, c.have * c.chunkSize), 0))
    this.gauge('shoal_cache_bytes', 'bytes of the contents in the managed store', () => node.cacheStats().bytes)
    this.labelledCounter('shoal_cache_evictions_total', 'contents the cache evicted, by reason (quota, tti, ttl, disk-full)', 'reason', EVICTION_REASONS,
      reason => node.cacheStats().evictions[reason as EvictionReason] ?? 0)

    // events, counted as they happen
    const requests = new Counter({ name: 'shoal_chunk_requests_total', help: 'chunk requests sent to peers, by outcome', labelNames: ['outcome'], registers: [this.#registry] })
    for (const outcome of REQUEST_OUTCOMES) requests.inc({ outcome }, 0)
    const latency = new Histogram({ name: 'shoal_chunk_request_duration_seconds', help: 'time from sending a chunk request to its last byte, answered requests only', buckets: REQUEST_BUCKETS_S, registers: [this.#registry] })
    const gossip = new Counter({ name: 'shoal_gossip_messages_total', help: 'availability announcements on GossipSub, by direction (in: delivered to us, out: published by us)', labelNames: ['direction'], registers: [this.#registry] })
    gossip.inc({ direction: 'in' }, 0)
    gossip.inc({ direction: 'out' }, 0)
    const rejected = new Counter({ name: 'shoal_gossip_rejected_total', help: 'announcements refused by the topic validator (malformed, or for another content)', registers: [this.#registry] })
    const dht = new Histogram({ name: 'shoal_dht_query_duration_seconds', help: 'DHT operations, by kind (find-providers, provide)', labelNames: ['kind'], buckets: DHT_BUCKETS_S, registers: [this.#registry] })
    dht.zero({ kind: 'find-providers' })
    dht.zero({ kind: 'provide' })
    const bans = new Counter({ name: 'shoal_bans_total', help: 'peers banned from a content for sending a chunk that failed verification', registers: [this.#registry] })
    const stalls = new Counter({ name: 'shoal_stalls_total', help: 'times a download stalled (every missing chunk held by no reachable peer)', registers: [this.#registry] })

    this.#closers.push(node.observe({
      chunkRequest: (outcome, seconds) => {
        // an answer is counted ok or bad-chunk at verification; its latency when the bytes arrive
        if (seconds !== undefined) latency.observe(seconds)
        else requests.inc({ outcome })
      },
      gossip: kind => { if (kind === 'rejected') rejected.inc(); else gossip.inc({ direction: kind }) },
      dhtQuery: (kind, seconds) => { dht.observe({ kind }, seconds) }
    }))
    const onBanned = (): void => { bans.inc() }
    const onStalled = (): void => { stalls.inc() }
    node.addEventListener('banned', onBanned)
    node.addEventListener('stalled', onStalled)
    this.#closers.push(() => {
      node.removeEventListener('banned', onBanned)
      node.removeEventListener('stalled', onStalled)
    })
  }

  /** The registry, for metrics registered from outside (libp2p's own, behind SHOAL_LIBP2P_METRICS). */
  get registry (): Registry {
    return this.#registry
  }

  get contentType (): string {
    return this.#registry.contentType
  }

  async render (): Promise<string> {
    const [status, contents] = await Promise.all([this.#node.status(), this.#node.ls()])
    this.#snapshot = { status, contents }
    return await this.#registry.metrics()
  }

  /** Stops counting events (the server is stopping). */
  close (): void {
    for (const close of this.#closers.splice(0)) close()
  }

  /** A gauge set from the scrape's snapshot. */
  gauge (name: string, help: string, read: () => number): void {
    new Gauge({ name, help, registers: [this.#registry], collect () { this.set(read()) } })
  }

  /** A gauge with one label whose values are all known (each series exists from the first scrape). */
  labelledGauge (name: string, help: string, label: string, values: string[], read: (value: string) => number): void {
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [this.#registry],
      collect () { for (const value of values) this.set({ [label]: value }, read(value)) }
    })
  }

  /** A counter following a running total the node keeps (only its increases are added). */
  counter (name: string, help: string, read: () => number): void {
    let last = 0
    new Counter({
      name,
      help,
      registers: [this.#registry],
      collect () {
        const now = read()
        if (now > last) this.inc(now - last)
        last = Math.max(last, now)
      }
    })
  }

  /** A counter per label value, each following a running total the node keeps. */
  labelledCounter (name: string, help: string, label: string, values: string[], read: (value: string) => number): void {
    const last = new Map<string, number>(values.map(v => [v, 0]))
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [this.#registry],
      collect () {
        for (const value of values) {
          const now = read(value)
          const before = last.get(value)!
          this.inc({ [label]: value }, now > before ? now - before : 0)
          last.set(value, Math.max(before, now))
        }
      }
    })
  }
}
