// The control API's token file: created 0600 once, reused, and refused when another user could have read or planted it.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateToken, loadOrCreateToken, readTokenFile, tokenFileIn, tokensEqual } from '../../src/api/api-token.js'
import { isShoalError } from '../../src/util/shoal-error.js'

describe('api-token', () => {
  let work: string
  before(async () => { work = await mkdtemp(join(tmpdir(), 'shoal-token-')) })
  after(async () => { await rm(work, { recursive: true, force: true }) })

  const badFile = (err: unknown): boolean => isShoalError(err, 'ERR_BAD_TOKEN_FILE') && /SHOAL_API_TOKEN/.test(err.message)

  it('generates 32 random bytes as base64url', () => {
    const a = generateToken()
    assert.match(a, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(Buffer.from(a, 'base64url').length, 32)
    assert.notEqual(a, generateToken())
  })

  it('creates the file with mode 0600 on first use and reuses it after', async () => {
    const file = tokenFileIn(join(work, 'fresh', 'data'))
    const first = await loadOrCreateToken(file)
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    assert.equal((await readFile(file, 'utf8')).trim(), first)
    assert.equal(await loadOrCreateToken(file), first)
    assert.equal(await readTokenFile(file), first)
  })

  it('agrees on one token when many daemons start at once', async () => {
    const file = join(work, 'race.token')
    const tokens = await Promise.all(Array.from({ length: 16 }, async () => await loadOrCreateToken(file)))
    assert.equal(new Set(tokens).size, 1)
  })

  it('refuses a token file readable by group or others', async () => {
    const file = join(work, 'loose.token')
    await writeFile(file, `${generateToken()}\n`, { mode: 0o644 })
    await chmod(file, 0o644)
    await assert.rejects(loadOrCreateToken(file), (err: unknown) => badFile(err) && /644/.test((err as Error).message))
    await assert.rejects(readTokenFile(file), badFile)
    await chmod(file, 0o640)
    await assert.rejects(readTokenFile(file), badFile)
    await chmod(file, 0o600)
    assert.match((await readTokenFile(file))!, /^[A-Za-z0-9_-]{43}$/)
  })

  it('refuses a symlink, a folder and a file that holds no token', async () => {
    const target = join(work, 'target.token')
    await writeFile(target, `${generateToken()}\n`, { mode: 0o600 })
    await symlink(target, join(work, 'link.token'))
    await assert.rejects(loadOrCreateToken(join(work, 'link.token')), (err: unknown) => badFile(err) && /symbolic link/.test((err as Error).message))
    await mkdir(join(work, 'dir.token'))
    await assert.rejects(loadOrCreateToken(join(work, 'dir.token')), (err: unknown) => badFile(err) && /regular file/.test((err as Error).message))
    await writeFile(join(work, 'junk.token'), 'not a token!\n', { mode: 0o600 })
    await assert.rejects(readTokenFile(join(work, 'junk.token')), badFile)
  })

  it('reads no token from a missing file', async () => {
    assert.equal(await readTokenFile(join(work, 'missing.token')), undefined)
  })

  it('compares tokens of any length', () => {
    assert.ok(tokensEqual('abc', 'abc'))
    assert.ok(!tokensEqual('abc', 'abd'))
    assert.ok(!tokensEqual('abc', 'abcd'))
    assert.ok(!tokensEqual('', 'abc'))
  })
})
