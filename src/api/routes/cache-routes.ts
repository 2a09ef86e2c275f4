import { readJson, requireBoolean } from '../read-json.js'
import type { Route } from '../route.js'

/** Pins, GC and cache figures: the cache routes of docs/control-api.md. */
export const cacheRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/contents\/([^/]+)\/pin$/,
    handle: async ({ node, params: [cid] }) => {
      await node.pin(cid!)
      return [200, { cid, pinned: true }]
    }
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/contents\/([^/]+)\/pin$/,
    handle: async ({ node, params: [cid] }) => {
      await node.unpin(cid!)
      return [200, { cid, pinned: false }]
    }
  },
  {
    method: 'POST',
    pattern: /^\/v1\/gc$/,
    handle: async ({ node, req }) => {
      const body = await readJson(req)
      const dryRun = body.dryRun === undefined ? false : requireBoolean(body, 'dryRun')
      return [200, await node.gc({ dryRun })]
    }
  },
  { method: 'GET', pattern: /^\/v1\/cache$/, handle: async ({ node }) => [200, node.cacheStats()] }
]
