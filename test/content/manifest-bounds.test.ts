import assert from 'node:assert/strict'
import * as dagCbor from '@ipld/dag-cbor'
import { describe, it } from 'node:test'
import {
  checkCborBounds, decodeManifest, encodeManifest, ManifestError, manifestCid, MAX_MANIFEST_BYTE_STRINGS,
  MAX_MANIFEST_ITEMS, MAX_PATH_SEGMENTS, MAX_TOTAL_PATH_BYTES, validateManifest, validateManifestPath
} from '../../src/content/index.js'
import type { Manifest } from '../../src/content/index.js'
import { C, sha256 } from './helpers.js'

/** The old validator needed 38 s and 4 GB for the deep manifest; a test still running after this failed. */
const BOUNDED = { timeout: 20_000 }

function isCode (code: string, message?: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof ManifestError, `expected a ManifestError, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    if (message !== undefined) assert.match(err.message, message)
    return true
  }
}

/** Bytes with their true CID, so only the structural checks can fail. */
function decodeRaw (bytes: Uint8Array): Manifest {
  return decodeManifest(bytes, manifestCid(bytes))
}

/** An untyped manifest of empty files at `paths`, as a hostile publisher would encode it. */
function emptyFiles (paths: string[], directories: string[] = []): Record<string, unknown> {
  return { version: 1, name: 'content', size: 0, chunkSize: C, files: paths.map(path => ({ path, size: 0, chunks: [] })), directories }
}

/** 50,000 one-chunk files in three levels of folders that share prefixes, plus a few listed folders. */
function wideManifest (): Manifest {
  const digest = sha256(new Uint8Array([1]))
  const files = Array.from({ length: 50_000 }, (_, i) => ({
    path: `top-${i % 10}/mid-${Math.floor(i / 10) % 50}/leaf-${Math.floor(i / 500) % 10}/file-${i}.bin`,
    size: C,
    chunks: [digest]
  }))
  return { version: 1, name: 'wide', size: files.length * C, chunkSize: C, files, directories: ['top-0/mid-0/empty', 'top-9/extra/deeper'] }
}

describe('manifest bounds', () => {
  it('rejects 1,000 files of 2,000 segments with ERR_PATH_TOO_DEEP, quickly', BOUNDED, () => {
    const deep = 'd/'.repeat(1_999)
    const bytes = dagCbor.encode(emptyFiles(Array.from({ length: 1_000 }, (_, i) => `${deep}f${i}`)))
    assert.ok(bytes.length > 3_900_000)
    assert.throws(() => decodeRaw(bytes), isCode('ERR_PATH_TOO_DEEP', /2000 segments, more than 256/))
  })

  it('applies the depth bound to directories too and accepts exactly MAX_PATH_SEGMENTS', () => {
    const atLimit = Array.from({ length: MAX_PATH_SEGMENTS }, (_, i) => `s${i}`).join('/')
    assert.equal(validateManifestPath(atLimit).length, MAX_PATH_SEGMENTS)
    assert.throws(() => validateManifestPath(`${atLimit}/one-more`), isCode('ERR_PATH_TOO_DEEP'))
    const bytes = dagCbor.encode(emptyFiles(['a'], [`${atLimit}/x`]))
    assert.throws(() => decodeRaw(bytes), isCode('ERR_PATH_TOO_DEEP', /directory #0/))
  })

  it('rejects paths that add up to more than MAX_TOTAL_PATH_BYTES with ERR_MANIFEST_PATHS_TOO_LARGE', BOUNDED, () => {
    // 20 segments of 199 bytes: each path is legal (under 4096 bytes, under 256 levels) and unique
    const stem = ('p'.repeat(199) + '/').repeat(19)
    const count = Math.ceil(MAX_TOTAL_PATH_BYTES / (stem.length + 190)) + 1
    const paths = Array.from({ length: count }, (_, i) => `${stem}${String(i).padStart(190, '0')}`)
    assert.throws(() => validateManifest(emptyFiles(paths)), isCode('ERR_MANIFEST_PATHS_TOO_LARGE'))
  })

  it('validates a wide manifest of 50,000 files and still catches clashes at the end of the list', BOUNDED, (t) => {
    const manifest = wideManifest()
    const { bytes, cid } = encodeManifest(manifest)
    const started = performance.now()
    const decoded = decodeManifest(bytes, cid)
    t.diagnostic(`decode + validate of 50,000 files (${bytes.length} bytes): ${(performance.now() - started).toFixed(0)} ms`)
    assert.equal(decoded.files.length, 50_000)

    const last = (change: (m: Record<string, unknown> & { files: unknown[], directories: string[] }) => void): Uint8Array => {
      const m = { ...manifest, files: [...manifest.files], directories: [...manifest.directories] }
      change(m)
      return dagCbor.encode(m)
    }
    const first = manifest.files[0]!
    const empty = (path: string): unknown => ({ path, size: 0, chunks: [] })
    assert.throws(() => decodeRaw(last(m => { m.files.push(empty(first.path)) })),
      isCode('ERR_BAD_MANIFEST', /appears twice/))
    assert.throws(() => decodeRaw(last(m => { m.files.push(empty(`${first.path}/inner`)) })),
      isCode('ERR_BAD_MANIFEST', new RegExp(`"${first.path}" is a file but other files lie under it`)))
    // a file named like a folder that earlier files live in
    assert.throws(() => decodeRaw(last(m => { m.files.push(empty('top-3/mid-7')) })),
      isCode('ERR_BAD_MANIFEST', /"top-3\/mid-7" is a file but other files lie under it/))
    assert.throws(() => decodeRaw(last(m => { m.directories.push(first.path) })),
      isCode('ERR_BAD_MANIFEST', /listed both as a file and as a directory/))
    assert.throws(() => decodeRaw(last(m => { m.directories.push(`${first.path}/sub/dir`) })),
      isCode('ERR_BAD_MANIFEST', /lies under file/))
    assert.throws(() => decodeRaw(last(m => { m.directories.push('top-0/mid-0/empty') })),
      isCode('ERR_BAD_MANIFEST', /directory "top-0\/mid-0\/empty" appears twice/))
  })
})

describe('CBOR bounds before decoding', () => {
  it('rejects more than MAX_MANIFEST_ITEMS items without decoding them', BOUNDED, () => {
    // an array of empty maps: 1 byte each on the wire, ~65 bytes each once decoded
    const n = MAX_MANIFEST_ITEMS + 1
    const bytes = new Uint8Array(5 + n).fill(0xa0)
    bytes.set([0x9a, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff])
    assert.throws(() => decodeRaw(bytes), isCode('ERR_MANIFEST_TOO_LARGE', /CBOR items/))
  })

  it('rejects more than MAX_MANIFEST_BYTE_STRINGS byte strings', BOUNDED, () => {
    const n = MAX_MANIFEST_BYTE_STRINGS + 1
    const bytes = new Uint8Array(5 + n).fill(0x40)
    bytes.set([0x9a, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff])
    assert.throws(() => decodeRaw(bytes), isCode('ERR_MANIFEST_TOO_LARGE', /byte strings/))
  })

  it('rejects nesting deeper than a manifest has, however long', () => {
    assert.throws(() => decodeRaw(new Uint8Array(1_000_000).fill(0x81)), isCode('ERR_BAD_MANIFEST', /nested deeper than 4/))
    assert.throws(() => decodeRaw(dagCbor.encode({ files: [{ chunks: [[]] }] })), isCode('ERR_BAD_MANIFEST', /nested deeper/))
  })

  it('rejects declared lengths longer than the bytes left, and tags, before decoding', () => {
    const huge = new Uint8Array(1_005)
    huge.set([0x9a, 0xff, 0xff, 0xff, 0xff])
    assert.throws(() => decodeRaw(huge), isCode('ERR_BAD_MANIFEST', /declaring 4294967295 entries .* runs past the end/))
    assert.throws(() => decodeRaw(Uint8Array.of(0x5b, 0, 0, 0, 1, 0, 0, 0, 0, 1)), isCode('ERR_BAD_MANIFEST', /runs past the end/))
    assert.throws(() => decodeRaw(Uint8Array.of(0x9f, 0xff)), isCode('ERR_BAD_MANIFEST', /indefinite/))
    assert.throws(() => decodeRaw(Uint8Array.of(0xc1, 0x00)), isCode('ERR_BAD_MANIFEST', /no tags/))
    assert.throws(() => decodeRaw(Uint8Array.of(0x1c)), isCode('ERR_BAD_MANIFEST', /reserved/))
  })

  it('accepts what the encoder writes and honours custom bounds', () => {
    const bytes = encodeManifest(wideManifest()).bytes
    checkCborBounds(bytes)
    const small = dagCbor.encode({ a: [1, 2, 3] })
    checkCborBounds(small, { maxNesting: 2, maxItems: 6, maxByteStrings: 0 })
    assert.throws(() => { checkCborBounds(small, { maxNesting: 1, maxItems: 6, maxByteStrings: 0 }) }, isCode('ERR_BAD_MANIFEST'))
    assert.throws(() => { checkCborBounds(small, { maxNesting: 2, maxItems: 5, maxByteStrings: 0 }) }, isCode('ERR_MANIFEST_TOO_LARGE'))
  })
})
