import type { EventStreams } from '../event-stream.js'
import type { Route } from '../route.js'

/** GET /v1/events: server-sent events of the node (token, or the dashboard's cookie). */
export function eventRoutes (streams: EventStreams): Route[] {
  return [{
    method: 'GET',
    pattern: /^\/v1\/events$/,
    cookie: true,
    handle: async ({ node, res }) => {
      streams.serve(node, res)
      return 'sent'
    }
  }]
}
