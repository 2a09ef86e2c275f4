// Mirrors asked for the same blobs at the same moment: each serves every blob whole, and the
// upstream serves each blob once: the mirrors that want a blob choose one of them to fetch it
// (signals and rendezvous hashing, before any upstream byte moves) and the others wait for it.
// Each blob comes from the mirror the rendezvous choice names (main, lowest peer id first, fails
// this). A chosen mirror whose upstream stalls mid-blob does not hold the others: they choose again.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { Socket } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { aliasCidOf, parseDigest, RegistryServer, Upstreams, UpstreamCredentials } from '../../src/registry/index.js'
import { Harness, waitUntil } from '../node/helpers.js'
import { buildTestImage, registryTools, skopeo, startRegistry, type RunningRegistry, type TestImage } from './helpers.js'

// Skipped, with the reason ensureDebianTools returns, only where docker-registry, skopeo or htpasswd are
// missing and cannot be installed (not root, or no apt); as root (CI) the project installs them and it runs.
const SKIP = registryTools()
const MIRRORS = 3

/** The mirror every node computes as the one to fetch `digest` (docs/registry.md: highest sha256(alias, peer id)). */
function chosenOf (digest: string, peers: string[]): string {
  const alias = aliasCidOf(parseDigest(digest))
  const score = (peer: string): string => createHash('sha256').update(alias).update('\0').update(peer).digest('hex')
  return [...peers].sort((a, b) => score(b).localeCompare(score(a)))[0]!
}

/** An "upstream" that forwards everything to `target` but answers a blob GET with its headers and 64 KiB, then nothing. */
async function stallingUpstream (target: string, sizes: Map<string, number>): Promise<{ url: string, stop: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((req, res) => {
    const blob = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(req.url ?? '')
    if (req.method === 'GET' && blob !== null && sizes.has(blob[1]!)) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(sizes.get(blob[1]!)) })
      res.write(Buffer.alloc(64 * 1024))
      return
    }
    void fetch(`${target}${req.url}`, { method: req.method, headers: { accept: req.headers.accept ?? '*/*' } }).then(async up => {
      res.writeHead(up.status, Object.fromEntries(up.headers))
      res.end(Buffer.from(await up.arrayBuffer()))
    }, () => { res.destroy() })
  })
  server.on('connection', socket => { sockets.add(socket); socket.once('close', () => sockets.delete(socket)) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}

describe('registry mirror: simultaneous pulls', { skip: SKIP, timeout: 60_000 }, () => {
  const h = new Harness()
  let upstream: RunningRegistry
  let image: TestImage
  let second: TestImage
  const servers: RegistryServer[] = []
  const stops: Array<() => Promise<void>> = []

  before(async () => {
    const root = await h.tempDir()
    upstream = await startRegistry(join(root, 'upstream'))
    image = await buildTestImage(join(root, 'image'), [2 << 20, 1 << 20, 1 << 20])
    second = await buildTestImage(join(root, 'second'), [1 << 20])
    for (const [img, name] of [[image, 'img'], [second, 'two']] as const) {
      const push = await skopeo(root, ['copy', '--dest-tls-verify=false', `oci:${img.dir}:${img.tag}`, `docker://${upstream.host}/test/${name}:v1`])
      assert.equal(push.code, 0, push.stderr)
    }
    await h.startBootstrap()
  })

  after(async () => {
    for (const s of servers) await s.stop()
    for (const stop of stops) await stop()
    await upstream?.stop()
    await h.cleanup()
  })

  it('every mirror serves every blob whole; the upstream serves each blob once', async () => {
    const nodes = await Promise.all(Array.from({ length: MIRRORS }, async () => await h.node()))
    await waitUntil('the mirrors see each other', async () => (await Promise.all(nodes.map(async n => (await n.status()).peers))).every(p => p >= MIRRORS))
    const urls = await Promise.all(nodes.map(async node => {
      const server = new RegistryServer({ address: '127.0.0.1:0', upstreams: Upstreams.parse(upstream.url), credentials: new UpstreamCredentials() })
      servers.push(server)
      return await server.start(node)
    }))
    const started = Date.now()
    await Promise.all(urls.flatMap(url => image.layers.map(async layer => {
      const res = await fetch(`${url}/v2/test/img/blobs/${layer.digest}`)
      assert.equal(res.status, 200)
      const body = Buffer.from(await res.arrayBuffer())
      assert.equal('sha256:' + createHash('sha256').update(body).digest('hex'), layer.digest)
    })))
    const gets = [...upstream.blobGets().values()].reduce((a, b) => a + b, 0)
    const stats = servers.map(s => s.stats!)
    console.log(`${MIRRORS} mirrors x ${image.layers.length} layers at once in ${Date.now() - started} ms: upstream blob GETs ${gets} (of ${MIRRORS * image.layers.length} without sharing); from peers ${stats.reduce((a, s) => a + s.fromPeers, 0)}, from the upstream ${stats.reduce((a, s) => a + s.fromUpstream, 0)} (${stats.map(s => s.fromUpstream).join(', ')} per mirror)`)
    assert.equal(stats.reduce((a, s) => a + s.fromPeers + s.fromUpstream, 0), MIRRORS * image.layers.length)
    for (const layer of image.layers) assert.equal(upstream.blobGets().get(layer.digest), 1, `the upstream's access log shows ${layer.digest} served once`)
    // each layer came from the mirror the rendezvous choice names, so different layers from different mirrors
    const expected = nodes.map(n => image.layers.filter(layer => chosenOf(layer.digest, nodes.map(m => m.peerId)) === n.peerId).length)
    assert.deepEqual(stats.map(s => s.fromUpstream), expected, 'upstream fetches per mirror')
  })

  // Two races, found in session 20 (the upstream served the blob twice in ~1 of 4 runs) and fixed in
  // session 21: the waiters' new wants crossed late and both claimed (waiters now repeat their want,
  // WANT_REPEAT_MS); and a waiter whose wait had followed another claimer than the one it chose
  // excluded the chosen one when that claimer stalled, waited on the stalled one again and then
  // fetched the blob itself (waitFor now names the claimer that failed). test/node/alias-claims.test.ts
  // covers both; this test is the whole path, and on failure prints which mirror fetched what.
  it('a chosen mirror whose upstream stalls mid-blob: the others choose again and get it once from the upstream', async () => {
    const layer = second.layers[0]!
    const nodes = await Promise.all(Array.from({ length: MIRRORS }, async () => await h.node()))
    await waitUntil('the new mirrors see each other', async () => (await Promise.all(nodes.map(async n => (await n.status()).peers))).every(p => p >= MIRRORS))
    const chosen = chosenOf(layer.digest, nodes.map(n => n.peerId))
    const stalling = await stallingUpstream(upstream.url, new Map([[layer.digest, layer.size]]))
    stops.push(stalling.stop)
    const urls = await Promise.all(nodes.map(async node => {
      const server = new RegistryServer({ address: '127.0.0.1:0', upstreams: Upstreams.parse(node.peerId === chosen ? stalling.url : upstream.url), credentials: new UpstreamCredentials() })
      servers.push(server)
      return { url: await server.start(node), chosen: node.peerId === chosen, server }
    }))
    // GossipSub learns a peer's subscription from that peer: until each new mirror knows the other two
    // joined the signal topic, its wants skip them, and a mirror that heard no other wanter fetched the
    // blob itself at once (2 of 21 runs in session 21: then the stall this test is about never happened)
    const ids = nodes.map(n => n.peerId)
    await waitUntil('each new mirror sees the other two on the signal topic', async () =>
      nodes.every(n => ids.every(id => id === n.peerId || n.aliases.claims.members().includes(id))))
    const abandon = new AbortController()
    const started = Date.now()
    await Promise.all(urls.map(async ({ url, chosen }) => {
      const res = fetch(`${url}/v2/test/two/blobs/${layer.digest}`, { signal: chosen ? abandon.signal : undefined })
      if (chosen) { res.catch(() => {}); return }
      const answer = await res
      assert.equal(answer.status, 200)
      assert.equal('sha256:' + createHash('sha256').update(Buffer.from(await answer.arrayBuffer())).digest('hex'), layer.digest)
    }))
    abandon.abort()
    console.log(`the two others got ${layer.digest} ${Date.now() - started} ms after the chosen mirror's upstream stalled`)
    const who = urls.map(({ chosen, server }, i) => `${chosen ? 'chosen' : 'other'} ${nodes[i]!.peerId.slice(-6)}: upstream ${server.stats?.fromUpstream ?? 0}, peers ${server.stats?.fromPeers ?? 0}`).join('; ')
    assert.equal(upstream.blobGets().get(layer.digest), 1, `the real upstream served the blob once (${who})`)
  })
})
