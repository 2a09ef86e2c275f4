// Blobs the mirror fetched count against the cache like any other content in the managed store: a
// GC pass over the quota evicts them, the mirror stops offering them under their alias, and the
// next request fetches the blob again. In-process node, real docker-registry.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { RegistryServer, Upstreams, UpstreamCredentials, aliasCidOf, parseDigest } from '../../src/registry/index.js'
import { ShoalNode } from '../../src/node/shoal-node.js'
import { Harness, waitUntil } from '../node/helpers.js'
import { buildTestImage, registryTools, skopeo, startRegistry, type RunningRegistry, type TestImage } from './helpers.js'

const SKIP = registryTools()

describe('registry mirror: blobs are cache content', { skip: SKIP, timeout: 60_000 }, () => {
  const h = new Harness()
  let upstream: RunningRegistry
  let image: TestImage
  let server: RegistryServer | undefined
  const others: RegistryServer[] = []

  before(async () => {
    const root = await h.tempDir()
    upstream = await startRegistry(join(root, 'upstream'))
    image = await buildTestImage(join(root, 'image'), [300_000, 200_000, 10_000])
    const push = await skopeo(root, ['copy', '--dest-tls-verify=false', `oci:${image.dir}:${image.tag}`, `docker://${upstream.host}/test/img:v1`])
    assert.equal(push.code, 0, push.stderr)
  })

  after(async () => {
    for (const s of others) await s.stop()
    await server?.stop()
    await upstream?.stop()
    await h.cleanup()
  })

  it('a GC pass over the quota evicts fetched blobs; the next request fetches again', async () => {
    // a quota far below one layer: every blob is over it as soon as it is held
    const node = await h.node({ cacheMaxBytes: 1024 })
    server = new RegistryServer({ address: '127.0.0.1:0', upstreams: Upstreams.parse(upstream.url), credentials: new UpstreamCredentials() })
    const url = await server.start(node)
    // the cache may run its own pass first (it does after a fetch): count evictions by the event
    const evicted: string[] = []
    node.addEventListener('evicted', ({ detail }) => { evicted.push(detail.name) })
    const layer = image.layers[0]!
    const alias = aliasCidOf(parseDigest(layer.digest))
    const first = await fetch(`${url}/v2/test/img/blobs/${layer.digest}`)
    assert.equal(first.status, 200)
    // read to the end: the lease on the content is held until the response is
    assert.equal((await first.arrayBuffer()).byteLength, layer.size)
    // the server releases its lease just after the last byte left: a pass in between keeps the blob
    await waitUntil('a GC pass evicts the blob', async () => {
      await node.gc()
      return evicted.includes(`sha256-${layer.digest.slice(7)}`)
    })
    assert.equal(node.aliases.target(alias), undefined, 'no longer offered under its alias')
    const again = await fetch(`${url}/v2/test/img/blobs/${layer.digest}`)
    assert.equal(again.status, 200)
    assert.equal((await again.arrayBuffer()).byteLength, layer.size)
    assert.equal(server.stats!.fromUpstream, 2)
  })

  it('a restarted node offers the blobs it verified before, without fetching or hashing them again', async () => {
    const init = await h.init()
    const first = new ShoalNode(init)
    await first.start()
    const before = new RegistryServer({ address: '127.0.0.1:0', upstreams: Upstreams.parse(upstream.url), credentials: new UpstreamCredentials() })
    const url = await before.start(first)
    const layer = image.layers[1]!
    const res = await fetch(`${url}/v2/test/img/blobs/${layer.digest}`)
    assert.equal((await res.arrayBuffer()).byteLength, layer.size)
    await before.stop()
    await first.stop()

    const again = await h.node(init)
    const after = new RegistryServer({ address: '127.0.0.1:0', upstreams: Upstreams.parse(upstream.url), credentials: new UpstreamCredentials() })
    others.push(after)
    const url2 = await after.start(again)
    assert.notEqual(again.aliases.target(aliasCidOf(parseDigest(layer.digest))), undefined, 'offered under its alias after the restart')
    const res2 = await fetch(`${url2}/v2/test/img/blobs/${layer.digest}`)
    assert.equal((await res2.arrayBuffer()).byteLength, layer.size)
    assert.equal(after.stats!.fromUpstream, 0)
  })
})
