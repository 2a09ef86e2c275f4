// Mirrors asked for the same blobs at the same moment: each serves every blob whole, and the
// claims (a node fetching from the upstream says so on the DHT, the others wait for it) keep the
// upstream's share small. How small depends on timing, so the count is printed, not asserted.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { RegistryServer, Upstreams, UpstreamCredentials } from '../../src/registry/index.js'
import { Harness, waitUntil } from '../node/helpers.js'
import { buildTestImage, registryTools, skopeo, startRegistry, type RunningRegistry, type TestImage } from './helpers.js'

const SKIP = registryTools()
const MIRRORS = 3

describe('registry mirror: simultaneous pulls', { skip: SKIP, timeout: 60_000 }, () => {
  const h = new Harness()
  let upstream: RunningRegistry
  let image: TestImage
  const servers: RegistryServer[] = []

  before(async () => {
    const root = await h.tempDir()
    upstream = await startRegistry(join(root, 'upstream'))
    image = await buildTestImage(join(root, 'image'), [2 << 20, 1 << 20, 1 << 20])
    const push = await skopeo(root, ['copy', '--dest-tls-verify=false', `oci:${image.dir}:${image.tag}`, `docker://${upstream.host}/test/img:v1`])
    assert.equal(push.code, 0, push.stderr)
  })

  after(async () => {
    for (const s of servers) await s.stop()
    await upstream?.stop()
    await h.cleanup()
  })

  it('every mirror serves every blob whole; the upstream count is printed', async () => {
    await h.startBootstrap()
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
    console.log(`${MIRRORS} mirrors x ${image.layers.length} layers at once in ${Date.now() - started} ms: upstream blob GETs ${gets} (of ${MIRRORS * image.layers.length} without sharing); from peers ${stats.reduce((a, s) => a + s.fromPeers, 0)}, from the upstream ${stats.reduce((a, s) => a + s.fromUpstream, 0)}`)
    assert.equal(stats.reduce((a, s) => a + s.fromPeers + s.fromUpstream, 0), MIRRORS * image.layers.length)
  })
})
