import { ShoalError } from '../../errors.js'
import { readJson, requireBoolean, requireNumber, requireString } from '../read-json.js'
import type { Route } from '../route.js'

/** Health, status, contents and downloads: the JSON routes of docs/control-api.md. */
export const contentRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/v1\/health$/,
    public: true,
    handle: async ({ node }) => {
      const status = await node.status()
      return [200, { ok: true, peerId: status.peerId, peers: status.peers, contents: status.contents, uptimeMs: status.uptimeMs }]
    }
  },
  { method: 'GET', pattern: /^\/v1\/status$/, handle: async ({ node }) => [200, await node.status()] },
  { method: 'GET', pattern: /^\/v1\/contents$/, handle: async ({ node }) => [200, { contents: await node.ls() }] },
  {
    method: 'GET',
    pattern: /^\/v1\/contents\/([^/]+)$/,
    handle: async ({ node, params: [cid] }) => {
      const info = (await node.ls()).find(c => c.cid === cid)
      if (info === undefined) throw new ShoalError('ERR_NOT_FOUND', `this node has no content ${cid}`)
      return [200, info]
    }
  },
  {
    method: 'POST',
    pattern: /^\/v1\/contents$/,
    handle: async ({ node, req, paths }) => {
      const body = await readJson(req)
      const path = requireString(body, 'path')
      const chunkSize = body.chunkSize === undefined ? undefined : requireNumber(body, 'chunkSize')
      // the node gets the real path that was checked, not a name a symlink could later redirect
      return [201, await node.add(await paths.resolve(path), { chunkSize })]
    }
  },
  {
    method: 'POST',
    pattern: /^\/v1\/downloads$/,
    handle: async ({ node, req, paths }) => {
      const body = await readJson(req)
      const cid = requireString(body, 'cid')
      // no `out`: into the node's managed store, where the cache may evict it (docs/cache.md)
      const out = body.out === undefined ? undefined : await paths.resolve(requireString(body, 'out'))
      const overwrite = body.overwrite === undefined ? false : requireBoolean(body, 'overwrite')
      return [202, await node.startGet(cid, { out, overwrite })]
    }
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/contents\/([^/]+)$/,
    handle: async ({ node, params: [cid] }) => {
      await node.remove(cid!)
      return [200, { cid, removed: true }]
    }
  }
]
