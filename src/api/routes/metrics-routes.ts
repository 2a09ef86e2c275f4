import type { NodeMetrics } from '../node-metrics.js'
import type { Route } from '../route.js'

/** GET /metrics: the node's Prometheus exposition. */
export function metricsRoutes (metrics: NodeMetrics): Route[] {
  return [{
    method: 'GET',
    pattern: /^\/metrics$/,
    handle: async ({ res }) => {
      const text = await metrics.render()
      res.writeHead(200, { 'content-type': metrics.contentType })
      res.end(text)
      return 'sent'
    }
  }]
}
