// The mirror's parsers of untrusted or operator input: digests and names (from clients), ranges,
// auth challenges (from the upstream), SHOAL_UPSTREAM and SHOAL_UPSTREAM_AUTH (whose errors must
// never repeat a secret), and the alias CID every node derives from a digest.
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { checkName, parseDigest, parseReference } from '../../src/registry/oci-digest.js'
import { OciError } from '../../src/registry/oci-error.js'
import { parseChallenge } from '../../src/registry/upstream-client.js'
import { aliasCidOf, mediaTypeOf, Upstreams, UpstreamCredentials } from '../../src/registry/index.js'
import { decodeAliasSignal, encodeAliasSignal } from '../../src/node/alias-signal-codec.js'
import { runShoal } from '../cli/helpers.js'

const HEX = 'a'.repeat(64)

describe('registry parsing', () => {
  it('digests: sha256 only, lower-case hex; anything else is the spec\'s DIGEST_INVALID', () => {
    assert.equal(parseDigest(`sha256:${HEX}`).hex, HEX)
    for (const bad of [`sha256:${'A'.repeat(64)}`, 'sha256:abc', `sha512:${'a'.repeat(128)}`, 'nope', '', `sha256:${HEX}x`]) {
      assert.throws(() => parseDigest(bad), (err: unknown) => err instanceof OciError && err.status === 400 && err.code === 'DIGEST_INVALID', bad)
    }
    assert.deepEqual(parseReference('v1.2_rc-3'), { tag: 'v1.2_rc-3' })
    assert.throws(() => parseReference('-bad'), OciError)
  })

  it('repository names follow the spec\'s grammar', () => {
    for (const good of ['a', 'library/alpine', 'my-org/sub.repo/x__y']) assert.equal(checkName(good), good)
    for (const bad of ['', 'A', 'a//b', '../x', 'a/', '-a', 'a'.repeat(256)]) assert.throws(() => checkName(bad), OciError, bad)
  })

  it('the alias of a digest is CIDv1 raw whose sha2-256 multihash is the digest', () => {
    const alias = CID.parse(aliasCidOf(parseDigest(`sha256:${HEX}`)))
    assert.equal(alias.version, 1)
    assert.equal(alias.code, 0x55)
    assert.equal(alias.multihash.code, 0x12)
    assert.equal(Buffer.from(alias.multihash.digest).toString('hex'), HEX)
  })

  it('alias signals round-trip; anything malformed from a peer is refused', () => {
    const alias = CID.parse(aliasCidOf(parseDigest(`sha256:${HEX}`)))
    const cid = CID.parse('bafyreigdmqpykrgxyaxtlafqpqhzrb7qy2rh75nldvfd4tucqmqqme5yje')
    for (const signal of [{ kind: 'want', alias }, { kind: 'drop', alias }, { kind: 'claim', alias, bytes: 12345678 }, { kind: 'have', alias, cid }] as const) {
      const back = decodeAliasSignal(encodeAliasSignal(signal))
      assert.equal(back.kind, signal.kind)
      assert.equal(back.alias.toString(), alias.toString())
      if (signal.kind === 'claim' && back.kind === 'claim') assert.equal(back.bytes, signal.bytes)
      if (signal.kind === 'have' && back.kind === 'have') assert.equal(back.cid.toString(), cid.toString())
    }
    const good = encodeAliasSignal({ kind: 'claim', alias, bytes: 1 })
    const bad = [new Uint8Array(0), Uint8Array.of(2, 0, 1, 0), Uint8Array.of(1, 9, 36, ...alias.bytes), good.subarray(0, good.length - 1),
      encodeAliasSignal({ kind: 'claim', alias, bytes: 0.5 }), Uint8Array.of(1, 0, 36, ...alias.bytes, 0), Uint8Array.of(1, 0, 4, 1, 2, 3, 4)]
    for (const data of bad) assert.throws(() => decodeAliasSignal(data), /malformed alias signal/)
  })

  it('WWW-Authenticate challenges, quoted and bare, with escapes', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"'), {
      scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' }
    })
    assert.deepEqual(parseChallenge('Basic realm=x'), { scheme: 'basic', params: { realm: 'x' } })
    assert.equal(parseChallenge('Bearer realm="a\\"b"')?.params.realm, 'a"b')
    assert.equal(parseChallenge(''), undefined)
  })

  it('SHOAL_UPSTREAM: one URL or host=url,...; ns picks, the unnamed entry is the default; no credentials in URLs', () => {
    const one = Upstreams.parse('https://registry-1.docker.io/')
    assert.equal(one.choose(null).url, 'https://registry-1.docker.io')
    assert.equal(one.choose('ghcr.io').url, 'https://registry-1.docker.io', 'the only upstream serves every ns')
    const many = Upstreams.parse('docker.io=https://registry-1.docker.io, ghcr.io=https://ghcr.io')
    assert.equal(many.choose('ghcr.io').url, 'https://ghcr.io')
    assert.throws(() => many.choose(null), (err: unknown) => err instanceof OciError && err.code === 'NAME_UNKNOWN')
    assert.equal(Upstreams.parse('ghcr.io=https://ghcr.io,http://127.0.0.1:5000').choose('quay.io').url, 'http://127.0.0.1:5000')
    for (const bad of ['', 'ftp://x', 'not a url', 'https://user:secret@registry.example', 'https://r.example/?q=1']) {
      assert.throws(() => Upstreams.parse(bad), (err: unknown) => err instanceof Error && !err.message.includes('secret'), bad)
    }
  })

  it('SHOAL_UPSTREAM_AUTH: user:password, per host, or a docker config.json; errors never repeat the secret', async () => {
    assert.deepEqual(UpstreamCredentials.parse('u:p:w').for('', 'https://r.example'), { username: 'u', password: 'p:w' })
    const perHost = UpstreamCredentials.parse('ghcr.io=a:b,127.0.0.1:5000=c:d')
    assert.deepEqual(perHost.for('ghcr.io', 'https://ghcr.io'), { username: 'a', password: 'b' })
    assert.deepEqual(perHost.for('', 'http://127.0.0.1:5000'), { username: 'c', password: 'd' })
    assert.equal(perHost.for('', 'https://other.example'), undefined)
    assert.throws(() => UpstreamCredentials.parse('nocolonsecret'), (err: unknown) => err instanceof Error && !err.message.includes('nocolonsecret'))
    const dir = await mkdtemp(join(tmpdir(), 'shoal-dockercfg-'))
    try {
      const file = join(dir, 'config.json')
      await writeFile(file, JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw').toString('base64') }, 'ghcr.io': { username: 'g', password: 'h' } } }))
      const creds = UpstreamCredentials.parse(file)
      assert.deepEqual(creds.for('docker.io', 'https://registry-1.docker.io'), { username: 'hub', password: 'pw' })
      assert.deepEqual(creds.for('', 'https://ghcr.io'), { username: 'g', password: 'h' })
      assert.throws(() => UpstreamCredentials.parse(join(dir, 'missing.json')), /cannot read the docker config/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('the daemon refuses a non-loopback mirror without SHOAL_REGISTRY_PUBLIC, and a mirror with no upstream, before starting', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-registry-cli-'))
    try {
      const open = await runShoal(['daemon', '--data-dir', dir, '--api', '127.0.0.1:0', '--registry', '0.0.0.0:0', '--upstream', 'http://127.0.0.1:1'])
      assert.equal(open.code, 2)
      assert.match(open.stderr, /SHOAL_REGISTRY_PUBLIC/)
      const none = await runShoal(['daemon', '--data-dir', dir, '--api', '127.0.0.1:0', '--registry', '127.0.0.1:0'])
      assert.equal(none.code, 2)
      assert.match(none.stderr, /needs an upstream/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a manifest\'s media type is its own mediaType, else its shape', () => {
    assert.equal(mediaTypeOf(Buffer.from('{"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}')), 'application/vnd.docker.distribution.manifest.v2+json')
    assert.equal(mediaTypeOf(Buffer.from('{"manifests":[]}')), 'application/vnd.oci.image.index.v1+json')
    assert.equal(mediaTypeOf(Buffer.from('{"layers":[]}')), 'application/vnd.oci.image.manifest.v1+json')
    assert.equal(mediaTypeOf(Buffer.from('{"mediaType":"text/html\\r\\nx: y"}')), 'application/vnd.oci.image.manifest.v1+json', 'no header injection')
  })
})
