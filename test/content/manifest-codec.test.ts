import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { describe, it } from 'node:test'
import {
  decodeManifest, encodeManifest, ManifestError, manifestCid, MAX_MANIFEST_BYTES, parseCid
} from '../../src/content/index.js'
import type { Manifest } from '../../src/content/index.js'
import { C, sha256 } from './helpers.js'

const d = (n: number): Uint8Array => sha256(new Uint8Array([n]))

function validManifest (): Manifest {
  return {
    version: 1,
    name: 'content',
    size: 2 * C + 1 + 0 + C,
    chunkSize: C,
    files: [
      { path: 'a/big', size: 2 * C + 1, chunks: [d(1), d(2), d(3)] },
      { path: 'a/empty', size: 0, chunks: [] },
      { path: 'b', size: C, chunks: [d(4)] }
    ],
    directories: ['c/d']
  }
}

/** Encodes any object as dag-cbor with its true CID, so only the check under test can fail. */
function raw (value: unknown): { bytes: Uint8Array, cid: CID } {
  const bytes = dagCbor.encode(value)
  return { bytes, cid: manifestCid(bytes) }
}

// Hostile manifests are ill-typed on purpose; an untyped object lets each test break one thing.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Untyped = Record<string, any>

/** A valid manifest as a plain object with `change` applied. */
function hostile (change: (m: Untyped) => void): { bytes: Uint8Array, cid: CID } {
  const m = structuredClone(validManifest()) as unknown as Untyped
  change(m)
  return raw(m)
}

function rejects (input: { bytes: Uint8Array, cid: CID }, code: string, message?: RegExp): void {
  assert.throws(() => decodeManifest(input.bytes, input.cid), (err: unknown) => {
    assert.ok(err instanceof ManifestError, `expected a ManifestError, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    if (message !== undefined) assert.match(err.message, message)
    return true
  })
}

describe('encodeManifest / decodeManifest', () => {
  it('round-trips a manifest and names it with a base32 CIDv1 dag-cbor sha2-256', () => {
    const { bytes, cid } = encodeManifest(validManifest())
    assert.match(cid.toString(), /^bafy/)
    assert.equal(cid.version, 1)
    assert.equal(cid.code, 0x71)
    assert.equal(cid.multihash.code, 0x12)
    assert.deepEqual(cid.multihash.digest, sha256(bytes))
    assert.deepEqual(decodeManifest(bytes, cid), validManifest())
    assert.ok(parseCid(cid.toString()).equals(cid))
    assert.deepEqual(decodeManifest(bytes, parseCid(cid.toString())), validManifest())
  })

  it('encodes digests as CBOR bytes and is deterministic', () => {
    const a = encodeManifest(validManifest())
    const withBuffers = validManifest()
    withBuffers.files[0]!.chunks = withBuffers.files[0]!.chunks.map(c => Buffer.from(c))
    const b = encodeManifest(withBuffers)
    assert.deepEqual(a.bytes, b.bytes)
    const decoded = dagCbor.decode(a.bytes) as { files: Array<{ chunks: unknown[] }> }
    assert.ok(decoded.files[0]!.chunks[0] instanceof Uint8Array)
  })

  it('refuses to encode an invalid manifest', () => {
    const m = validManifest()
    m.files[0]!.path = '../escape'
    assert.throws(() => encodeManifest(m), { code: 'ERR_BAD_PATH' })
  })

  it('rejects bytes that do not hash to the CID', () => {
    const good = encodeManifest(validManifest())
    const other = validManifest()
    other.name = 'other'
    rejects({ bytes: encodeManifest(other).bytes, cid: good.cid }, 'ERR_CID_MISMATCH')
    const flipped = Uint8Array.from(good.bytes)
    flipped[10]! ^= 1
    rejects({ bytes: flipped, cid: good.cid }, 'ERR_CID_MISMATCH')
  })

  it('rejects a CID that is not CIDv1 dag-cbor sha2-256', () => {
    const { bytes } = encodeManifest(validManifest())
    const digest = Digest.create(0x12, sha256(bytes))
    rejects({ bytes, cid: CID.createV1(0x55, digest) }, 'ERR_BAD_CID', /dag-cbor/)
    rejects({ bytes, cid: CID.createV0(digest as never) }, 'ERR_BAD_CID', /CIDv1/)
    const sha512 = Digest.create(0x13, new Uint8Array(createHash('sha512').update(bytes).digest()))
    rejects({ bytes, cid: CID.createV1(0x71, sha512) }, 'ERR_BAD_CID', /sha2-256/)
  })

  it('rejects manifests over the size bound before hashing', () => {
    const bytes = new Uint8Array(MAX_MANIFEST_BYTES + 1)
    rejects({ bytes, cid: manifestCid(bytes) }, 'ERR_MANIFEST_TOO_LARGE')
  })

  it('wraps CBOR decode failures', () => {
    rejects({ bytes: new Uint8Array([0xff, 0x00, 0x13]), cid: manifestCid(new Uint8Array([0xff, 0x00, 0x13])) }, 'ERR_BAD_MANIFEST', /dag-cbor/)
    const good = encodeManifest(validManifest()).bytes
    const trailing = new Uint8Array([...good, 0x00])
    rejects({ bytes: trailing, cid: manifestCid(trailing) }, 'ERR_BAD_MANIFEST')
    const truncated = good.subarray(0, good.length - 3)
    rejects({ bytes: truncated, cid: manifestCid(truncated) }, 'ERR_BAD_MANIFEST')
    rejects({ bytes: new Uint8Array(0), cid: manifestCid(new Uint8Array(0)) }, 'ERR_BAD_MANIFEST')
  })

  it('rejects a top level that is not a map', () => {
    rejects(raw([1, 2]), 'ERR_BAD_MANIFEST', /map/)
    rejects(raw(7), 'ERR_BAD_MANIFEST')
    rejects(raw(null), 'ERR_BAD_MANIFEST')
    rejects(raw(new Uint8Array(3)), 'ERR_BAD_MANIFEST')
  })

  it('rejects an unsupported or missing version', () => {
    rejects(hostile(m => { m.version = 2 }), 'ERR_BAD_MANIFEST_VERSION', /version 2/)
    rejects(hostile(m => { m.version = '1' }), 'ERR_BAD_MANIFEST_VERSION')
    rejects(hostile(m => { delete m.version }), 'ERR_BAD_MANIFEST_VERSION')
  })

  it('rejects unknown and missing fields', () => {
    rejects(hostile(m => { m.extra = 1 }), 'ERR_BAD_MANIFEST', /unknown field "extra"/)
    rejects(hostile(m => { delete m.directories }), 'ERR_BAD_MANIFEST', /missing field "directories"/)
    rejects(hostile(m => { m.files[0].mode = 0o755 }), 'ERR_BAD_MANIFEST', /unknown field "mode"/)
    rejects(hostile(m => { delete m.files[1].chunks }), 'ERR_BAD_MANIFEST', /missing field "chunks"/)
  })

  it('rejects a bad name', () => {
    rejects(hostile(m => { m.name = 5 }), 'ERR_BAD_MANIFEST', /name/)
    rejects(hostile(m => { m.name = '' }), 'ERR_BAD_PATH')
    rejects(hostile(m => { m.name = 'a/b' }), 'ERR_BAD_PATH')
    rejects(hostile(m => { m.name = '..' }), 'ERR_BAD_PATH')
  })

  it('rejects a bad chunk size', () => {
    rejects(hostile(m => { m.chunkSize = 1000 }), 'ERR_BAD_CHUNK_SIZE')
    rejects(hostile(m => { m.chunkSize = 3 * C }), 'ERR_BAD_CHUNK_SIZE')
    rejects(hostile(m => { m.chunkSize = 32 * 1024 * 1024 }), 'ERR_BAD_CHUNK_SIZE')
    rejects(hostile(m => { m.chunkSize = String(C) }), 'ERR_BAD_CHUNK_SIZE')
  })

  it('rejects a total size that is not the sum of file sizes, or not a safe integer', () => {
    rejects(hostile(m => { m.size += 1 }), 'ERR_BAD_MANIFEST', /sum of file sizes/)
    rejects(hostile(m => { m.size = -1 }), 'ERR_BAD_MANIFEST', /size/)
    rejects(hostile(m => { m.size = 1.5 }), 'ERR_BAD_MANIFEST', /size/)
    rejects(hostile(m => { m.size = 2n ** 60n }), 'ERR_BAD_MANIFEST', /size/)
  })

  it('rejects files and directories that are not lists of the right things', () => {
    rejects(hostile(m => { m.files = {} }), 'ERR_BAD_MANIFEST', /files must be a list/)
    rejects(hostile(m => { m.directories = 'x' }), 'ERR_BAD_MANIFEST', /directories must be a list/)
    rejects(hostile(m => { m.files[1] = 'a/empty' }), 'ERR_BAD_MANIFEST', /file #1 must be a map/)
    rejects(hostile(m => { m.files[0].chunks = 'x' }), 'ERR_BAD_MANIFEST', /chunks must be a list/)
    rejects(hostile(m => { m.files[0].path = 7 }), 'ERR_BAD_PATH', /string/)
    rejects(hostile(m => { m.directories = [7] }), 'ERR_BAD_PATH', /string/)
  })

  it('rejects a file whose chunk count does not match its size', () => {
    rejects(hostile(m => { m.files[0].chunks.pop() }), 'ERR_BAD_MANIFEST', /has 2 chunk digests but its size \d+ needs 3/)
    rejects(hostile(m => { m.files[1].chunks.push(d(9)) }), 'ERR_BAD_MANIFEST', /needs 0/)
    rejects(hostile(m => { m.files[2].size = C + 1; m.size += 1 }), 'ERR_BAD_MANIFEST', /needs 2/)
    rejects(hostile(m => { m.files[2].size = -C; m.size -= 2 * C }), 'ERR_BAD_MANIFEST', /size/)
  })

  it('rejects digests that are not 32 bytes', () => {
    rejects(hostile(m => { m.files[0].chunks[1] = new Uint8Array(31) }), 'ERR_BAD_MANIFEST', /chunk 1 digest must be 32 bytes/)
    rejects(hostile(m => { m.files[0].chunks[1] = new Uint8Array(33) }), 'ERR_BAD_MANIFEST', /32 bytes/)
    rejects(hostile(m => { m.files[0].chunks[1] = 'ab'.repeat(16) }), 'ERR_BAD_MANIFEST', /32 bytes/)
    // a CID (CBOR tag 42) is never valid in a manifest; the pre-decode scan refuses every tag
    rejects(hostile(m => { m.files[0].chunks[1] = manifestCid(new Uint8Array(1)) }), 'ERR_BAD_MANIFEST', /carries no tags/)
  })

  const badPaths: Array<[string, RegExp, string?]> = [
    ['/etc/passwd', /absolute/],
    ['../up', /parent/],
    ['a/../../up', /parent/],
    ['a/..', /parent/],
    ['.', /current/],
    ['a/./b', /current/],
    ['', /empty/],
    ['a//b', /empty/],
    ['a/', /empty/],
    ['a\\..\\b', /separator/],
    ['a\u0000b', /NUL/],
    ['a\u001bb', /control/],
    ['CON', /reserved/],
    ['dir/nul.txt', /reserved/],
    ['Aux', /reserved/],
    ['com1', /reserved/],
    ['x/LPT9.log', /reserved/],
    ['C:evil', /drive letter/],
    ['trail.', /strips/],
    ['trail ', /strips/],
    ['x'.repeat(256), /longer than 255/],
    [('y'.repeat(200) + '/').repeat(21) + 'z', /longer than 4096/, 'ERR_PATH_TOO_LONG'],
    ['d/'.repeat(256) + 'f', /257 segments, more than 256/, 'ERR_PATH_TOO_DEEP']
  ]
  for (const [path, why, code = 'ERR_BAD_PATH'] of badPaths) {
    it(`rejects the file path ${JSON.stringify(path.slice(0, 40))}`, () => {
      rejects(hostile(m => { m.files[2].path = path }), code, why)
    })
    it(`rejects the directory path ${JSON.stringify(path.slice(0, 40))}`, () => {
      rejects(hostile(m => { m.directories[0] = path }), code, why)
    })
  }

  it('accepts names that merely look like reserved ones', () => {
    for (const path of ['CONSOLE', 'nul_', 'com10', 'aux-files/x', '.hidden', '..double', 'a.b.c', 'note:1']) {
      const m = validManifest()
      m.files[2]!.path = path
      const { bytes, cid } = encodeManifest(m)
      assert.equal(decodeManifest(bytes, cid).files[2]!.path, path)
    }
  })

  it('rejects duplicate paths and files that clash with directories', () => {
    rejects(hostile(m => { m.files[2].path = 'a/big' }), 'ERR_BAD_MANIFEST', /appears twice/)
    rejects(hostile(m => { m.directories = ['c/d', 'c/d'] }), 'ERR_BAD_MANIFEST', /appears twice/)
    rejects(hostile(m => { m.directories = ['b'] }), 'ERR_BAD_MANIFEST', /both as a file and as a directory/)
    rejects(hostile(m => { m.directories = ['b/sub'] }), 'ERR_BAD_MANIFEST', /lies under file "b"/)
    rejects(hostile(m => { m.files[2].path = 'a/big/inner' }), 'ERR_BAD_MANIFEST', /"a\/big" is a file but other files lie under it/)
    rejects(hostile(m => { m.files[0].path = 'b/inner' }), 'ERR_BAD_MANIFEST', /"b" is a file/)
  })

  it('never throws anything but a ManifestError on mangled bytes', () => {
    const good = encodeManifest(validManifest()).bytes
    let seed = 12345
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
    for (let round = 0; round < 2000; round++) {
      const bytes = Uint8Array.from(good)
      const flips = 1 + rand(4)
      for (let i = 0; i < flips; i++) bytes[rand(bytes.length)] = rand(256)
      const cut = rand(10) === 0 ? bytes.subarray(0, rand(bytes.length)) : bytes
      try {
        decodeManifest(cut, manifestCid(cut))
      } catch (err) {
        assert.ok(err instanceof ManifestError, `round ${round}: ${String(err)}`)
      }
    }
  })
})
