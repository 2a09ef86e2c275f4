import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { resolveInside } from '../../src/store/index.js'
import { isShoalError } from '../../src/util/index.js'

describe('resolveInside', () => {
  it('joins safe relative paths', () => {
    assert.equal(resolveInside('/out', 'a/b.txt'), join('/out', 'a/b.txt'))
    assert.equal(resolveInside('/out/', 'x'), '/out/x')
    assert.equal(resolveInside('/out', '..name'), '/out/..name', 'dots inside a name are fine')
  })

  it('rejects paths that could leave the root', () => {
    for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', 'a/..', './a', 'a//b', 'a/', 'a\0b', '\\x', 'a\\..\\..\\b']) {
      assert.throws(() => resolveInside('/out', bad), (err: unknown) => isShoalError(err, 'ERR_UNSAFE_PATH'), JSON.stringify(bad))
    }
  })
})
