// Bytes that do not match their digest are never served. A peer that names the wrong content for a
// blob's alias costs one fetch and is never asked for that blob again (the mirror then takes it
// from the upstream); an upstream whose bytes do not match (a proxy in front of docker-registry
// corrupts one blob here) gets a 502, not the bytes. In-process nodes, real sockets and registry.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer, request as httpRequest, type Server } from 'node:http'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { RegistryServer, Upstreams, UpstreamCredentials, aliasCidOf, parseDigest } from '../../src/registry/index.js'
import { Harness, randomFile, waitUntil } from '../node/helpers.js'
import { buildTestImage, registryTools, skopeo, startRegistry, type RunningRegistry, type TestImage } from './helpers.js'

// Skipped, with the reason ensureDebianTools returns, only where docker-registry, skopeo or htpasswd are
// missing and cannot be installed (not root, or no apt); as root (CI) the project installs them and it runs.
const SKIP = registryTools()

describe('registry mirror: bytes that do not match their digest', { skip: SKIP, timeout: 60_000 }, () => {
  const h = new Harness()
  let upstream: RunningRegistry
  let image: TestImage
  let corrupting: Server
  let corruptingUrl: string
  const servers: RegistryServer[] = []

  before(async () => {
    const root = await h.tempDir()
    upstream = await startRegistry(join(root, 'upstream'))
    image = await buildTestImage(join(root, 'image'), [400_000, 200_000, 30_000])
    const push = await skopeo(root, ['copy', '--dest-tls-verify=false', `oci:${image.dir}:${image.tag}`, `docker://${upstream.host}/test/img:v1`])
    assert.equal(push.code, 0, push.stderr)
    // flips one byte in the body of every blob answer: what a broken cache or a hostile upstream does
    corrupting = createServer((req, res) => {
      const forward = httpRequest(`${upstream.url}${req.url ?? '/'}`, { method: req.method, headers: { ...req.headers, host: upstream.host } }, answer => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        let first = true
        answer.on('data', (chunk: Buffer) => {
          if (first && req.url?.includes('/blobs/') === true) { chunk[0] = chunk[0]! ^ 0xff; first = false }
          res.write(chunk)
        })
        answer.on('end', () => { res.end() })
      })
      forward.on('error', () => { res.destroy() })
      forward.end()
    })
    await new Promise<void>(resolve => { corrupting.listen(0, '127.0.0.1', () => { resolve() }) })
    const address = corrupting.address()
    corruptingUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  })

  after(async () => {
    for (const s of servers) await s.stop()
    corrupting?.closeAllConnections()
    corrupting?.close()
    await upstream?.stop()
    await h.cleanup()
  })

  async function mirror (node: Parameters<RegistryServer['start']>[0], upstreamUrl: string): Promise<{ server: RegistryServer, url: string }> {
    const server = new RegistryServer({ address: '127.0.0.1:0', upstreams: Upstreams.parse(upstreamUrl), credentials: new UpstreamCredentials() })
    servers.push(server)
    return { server, url: await server.start(node) }
  }

  it('a peer naming the wrong content for a blob costs one fetch, is not asked again, and the upstream serves', async () => {
    const liar = await h.node()
    const node = await h.node({ bootstrap: liar.multiaddrs })
    await waitUntil('the nodes connect', async () => (await node.status()).peers > 0 && (await liar.status()).peers > 0)
    const layer = image.layers[0]!
    const decoy = join(await h.tempDir(), 'decoy')
    await randomFile(decoy, layer.size)
    const added = await liar.add(decoy)
    liar.aliases.set(aliasCidOf(parseDigest(layer.digest)), added.cid)
    const { server, url } = await mirror(node, upstream.url)
    const res = await fetch(`${url}/v2/test/img/blobs/${layer.digest}`)
    assert.equal(res.status, 200)
    const body = Buffer.from(await res.arrayBuffer())
    assert.equal('sha256:' + createHash('sha256').update(body).digest('hex'), layer.digest)
    assert.deepEqual(body, await readFile(join(image.dir, 'blobs', 'sha256', layer.digest.slice(7))))
    assert.deepEqual({ mismatches: server.stats!.mismatches, fromPeers: server.stats!.fromPeers, fromUpstream: server.stats!.fromUpstream }, { mismatches: 1, fromPeers: 0, fromUpstream: 1 })
    // the decoy was deleted, and the blob is now announced by the honest node under its alias
    assert.ok(!(await node.ls()).some(c => c.cid === added.cid), 'the decoy content is gone')
    assert.equal(node.aliases.target(aliasCidOf(parseDigest(layer.digest))), (await node.ls()).find(c => c.name === `sha256-${layer.digest.slice(7)}`)?.cid)
  })

  it('an upstream whose bytes do not match the digest: 502, nothing served, reported', async () => {
    const node = await h.node()
    const { server, url } = await mirror(node, corruptingUrl)
    const layer = image.layers[1]!
    const res = await fetch(`${url}/v2/test/img/blobs/${layer.digest}`)
    const body = await res.json() as { errors: Array<{ code: string, message: string }> }
    assert.equal(res.status, 502)
    assert.match(body.errors[0]!.message, /hash to sha256:/)
    assert.equal(server.stats!.mismatches, 1)
    assert.ok(!(await node.ls()).some(c => c.name === `sha256-${layer.digest.slice(7)}`), 'nothing was kept')
  })
})
