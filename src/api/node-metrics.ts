import { Counter, Gauge, Registry } from 'prom-client'
import type { ShoalNode } from '../node/shoal-node.js'

/**
 * Prometheus metrics of one node, read from its status when scraped. Each node gets its own
 * Registry: prom-client's global one would mix two nodes in one process.
 */
export class NodeMetrics {
  readonly #registry = new Registry()

  constructor (node: ShoalNode) {
    const registry = this.#registry
    const gauge = (name: string, help: string, read: () => Promise<number>): void => {
      new Gauge({ name, help, registers: [registry], async collect () { this.set(await read()) } })
    }
    const counter = (name: string, help: string, read: () => Promise<number>): void => {
      let last = 0
      new Counter({
        name,
        help,
        registers: [registry],
        async collect () {
          const now = await read()
          if (now > last) this.inc(now - last)
          last = now
        }
      })
    }
    gauge('shoal_peers', 'connected libp2p peers', async () => (await node.status()).peers)
    gauge('shoal_contents', 'contents held or being fetched', async () => (await node.status()).contents)
    gauge('shoal_upload_rate_bytes', 'upload rate over the last seconds, bytes/s', async () => (await node.status()).uploadRateBps)
    gauge('shoal_download_rate_bytes', 'download rate over the last seconds, bytes/s', async () => (await node.status()).downloadRateBps)
    gauge('shoal_uptime_seconds', 'seconds since the node started', async () => (await node.status()).uptimeMs / 1000)
    counter('shoal_uploaded_bytes_total', 'chunk bytes sent to peers', async () => (await node.status()).uploadedBytes)
    counter('shoal_downloaded_bytes_total', 'verified chunk bytes received from peers', async () => (await node.status()).downloadedBytes)
    gauge('shoal_cache_bytes', 'bytes of the contents in the managed store', async () => node.cacheStats().bytes)
    const evicted: Record<string, number> = {}
    new Counter({
      name: 'shoal_cache_evictions_total',
      help: 'contents the cache evicted, by reason (quota, tti, ttl, disk-full)',
      labelNames: ['reason'],
      registers: [registry],
      collect () {
        for (const [reason, now] of Object.entries(node.cacheStats().evictions)) {
          this.inc({ reason }, now - (evicted[reason] ?? 0))
          evicted[reason] = now
        }
      }
    })
  }

  get contentType (): string {
    return this.#registry.contentType
  }

  async render (): Promise<string> {
    return await this.#registry.metrics()
  }
}
