import assert from 'node:assert/strict'
import { join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { safeJoin, validateManifestPath, validatePathSegment } from '../../src/content/index.js'
import { isShoalError } from '../../src/util/index.js'

const badPath = (err: unknown): boolean => isShoalError(err, 'ERR_BAD_PATH')

describe('validateManifestPath', () => {
  it('returns the segments of a safe path', () => {
    assert.deepEqual(validateManifestPath('a/b c/d.txt'), ['a', 'b c', 'd.txt'])
    assert.deepEqual(validateManifestPath('ünïcødé/文件'), ['ünïcødé', '文件'])
  })

  it('rejects non-strings and unsafe paths', () => {
    for (const p of [undefined, 3, '', '/a', 'a/../b', '..', 'a\\b', 'a\u0000', 'PRN.txt', 'a//b']) {
      assert.throws(() => validateManifestPath(p), badPath, `accepted ${JSON.stringify(p)}`)
    }
  })

  it('measures segment length in UTF-8 bytes', () => {
    validatePathSegment('é'.repeat(127))
    assert.throws(() => validatePathSegment('é'.repeat(128)), badPath)
  })
})

describe('safeJoin', () => {
  it('joins a safe path inside the root', () => {
    assert.equal(safeJoin('/srv/out', 'a/b'), join(resolve('/srv/out'), 'a', 'b'))
    assert.equal(safeJoin('/srv/out/', 'x'), '/srv/out/x')
    assert.equal(safeJoin('relative/root', 'x'), join(resolve('relative/root'), 'x'))
    assert.equal(safeJoin('/srv/out', '..name'), '/srv/out/..name', 'dots inside a name are fine')
  })

  it('refuses paths that would leave the root', () => {
    for (const p of ['../x', '/etc/passwd', 'a/../../x', 'a\\..\\..\\x', '.', '', 'a/..', './a', 'a//b', 'a/', 'a\0b', '\\x']) {
      assert.throws(() => safeJoin('/srv/out', p), badPath, `accepted ${JSON.stringify(p)}`)
    }
  })
})
