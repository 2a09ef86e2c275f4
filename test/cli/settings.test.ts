import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RETIRED_SETTINGS, retiredSettingWarnings } from '../../src/cli/retired-settings.js'
import { SETTINGS, parseBytes, parseDuration, parseRate, resolveSettings } from '../../src/cli/settings.js'
import { isShoalError } from '../../src/util/shoal-error.js'

// dist/test/cli -> the repository root
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

const TESTNET_MARKER = '# --- testnet'

/**
 * One section of `.env.example` as [name, value, the comment line above it]: the node's settings
 * come first, the testnet entrypoint's variables after the `# --- testnet` line.
 */
async function readEnvExample (section: 'node' | 'testnet' = 'node'): Promise<Array<{ name: string, value: string, comment: string }>> {
  const all = (await readFile(join(ROOT, '.env.example'), 'utf8')).split('\n')
  const marker = all.findIndex(line => line.startsWith(TESTNET_MARKER))
  const lines = section === 'node' ? (marker === -1 ? all : all.slice(0, marker)) : (marker === -1 ? [] : all.slice(marker))
  const out: Array<{ name: string, value: string, comment: string }> = []
  for (const [i, line] of lines.entries()) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line)
    if (m !== null) out.push({ name: m[1]!, value: m[2]!, comment: (lines[i - 1] ?? '').replace(/^#\s*/, '') })
  }
  return out
}

describe('settings', () => {
  it('.env.example lists every setting, with its default and description, and nothing else', async () => {
    const entries = await readEnvExample()
    assert.deepEqual(entries.map(e => e.name), SETTINGS.map(s => s.env))
    for (const s of SETTINGS) {
      const entry = entries.find(e => e.name === s.env)!
      assert.equal(entry.value, s.defaultText, `${s.env} default`)
      assert.equal(entry.comment, s.description, `${s.env} description`)
    }
  })

  it('.env.example lists the testnet variables that docker/entrypoint.sh reads and docs/testnet.md explains', async () => {
    const entries = await readEnvExample('testnet')
    assert.ok(entries.length > 0, 'a testnet section exists')
    const script = await readFile(join(ROOT, 'docker', 'entrypoint.sh'), 'utf8')
    const compose = await readFile(join(ROOT, 'docker', 'compose.yaml'), 'utf8')
    const doc = await readFile(join(ROOT, 'docs', 'testnet.md'), 'utf8')
    for (const { name } of entries) {
      assert.ok(script.includes(name) || compose.includes(name), `${name} is read by the entrypoint or the compose file`)
      assert.ok(doc.includes(name), `docs/testnet.md explains ${name}`)
    }
  })

  it('docs/cli.md documents every environment variable with its default', async () => {
    const doc = await readFile(join(ROOT, 'docs', 'cli.md'), 'utf8')
    for (const s of SETTINGS) {
      const cell = s.defaultText === '' ? '(empty)' : `\`${s.defaultText}\``
      const row = `| \`${s.env}\` | \`${s.flag.split(' ')[0]!}\` | ${cell} | ${s.description.replace(/\|/g, '\\|')} |`
      assert.ok(doc.split('\n').includes(row), `docs/cli.md has the row ${row}`)
    }
  })

  it('every default parses', () => {
    const settings = resolveSettings({}, {})
    assert.equal(settings.dataDir, join(homedir(), '.shoal'))
    assert.deepEqual(settings.listen, ['/ip4/0.0.0.0/tcp/0'])
    assert.equal(settings.chunkSize, 256 * 1024)
    assert.equal(settings.seedTime, 0)
    assert.equal(settings.maxPeers, 32)
  })

  it('a flag beats the environment, the environment beats the default', () => {
    const env = { SHOAL_MAX_PEERS: '7', SHOAL_DATA_DIR: '/env' }
    assert.equal(resolveSettings({}, env).maxPeers, 7)
    assert.equal(resolveSettings({ maxPeers: '9' }, env).maxPeers, 9)
    assert.equal(resolveSettings({ dataDir: '/flag' }, env).dataDir, '/flag')
    assert.equal(resolveSettings({}, { SHOAL_DATA_DIR: '~/x' }).dataDir, join(homedir(), 'x'))
    assert.deepEqual(resolveSettings({}, { SHOAL_BOOTSTRAP: '/ip4/1.2.3.4/tcp/1/p2p/a, /ip4/5.6.7.8/tcp/2/p2p/b' }).bootstrap,
      ['/ip4/1.2.3.4/tcp/1/p2p/a', '/ip4/5.6.7.8/tcp/2/p2p/b'])
  })

  it('--super-seed / SHOAL_SUPER_SEED is retired: one warning naming where it was set, whatever its value, and no effect', () => {
    const warning = (source: string): string => `${source} is retired and ignored: every seeder now uses the first-copy policy (docs/decisions.md)`
    assert.deepEqual(retiredSettingWarnings({ superSeed: true }, {}), [warning('--super-seed')])
    assert.deepEqual(retiredSettingWarnings({}, { SHOAL_SUPER_SEED: 'true' }), [warning('SHOAL_SUPER_SEED')])
    assert.deepEqual(retiredSettingWarnings({}, { SHOAL_SUPER_SEED: 'false' }), [warning('SHOAL_SUPER_SEED')])
    // never parsed: a value the old boolean parser refused is no error, only the same warning
    assert.deepEqual(retiredSettingWarnings({}, { SHOAL_SUPER_SEED: 'maybe' }), [warning('SHOAL_SUPER_SEED')])
    assert.deepEqual(retiredSettingWarnings({ superSeed: true }, { SHOAL_SUPER_SEED: 'true' }), [warning('--super-seed')], 'one warning, naming the flag')
    assert.deepEqual(retiredSettingWarnings({}, { SHOAL_SUPER_SEED: '' }), [], 'an empty variable sets nothing')
    assert.deepEqual(retiredSettingWarnings({}, {}), [])
    const plain = resolveSettings({}, {})
    assert.deepEqual(resolveSettings({ superSeed: true }, { SHOAL_SUPER_SEED: 'maybe' }), plain, 'the resolved settings are those of a node that never set it')
    assert.ok(!('superSeed' in plain))
  })

  it('a retired setting is no live setting (so not in .env.example either), and docs/cli.md says it is ignored', async () => {
    const doc = await readFile(join(ROOT, 'docs', 'cli.md'), 'utf8')
    for (const r of RETIRED_SETTINGS) {
      assert.ok(!SETTINGS.some(s => s.key === r.key || s.env === r.env || s.flag.split(' ')[0] === r.flag), `${r.flag} is not also a live setting`)
      assert.ok(doc.includes(`\`${r.flag}\``) && doc.includes(`\`${r.env}\``), `docs/cli.md names ${r.flag} and ${r.env} among the retired settings`)
    }
  })

  it('a bad value names its source', () => {
    assert.throws(() => resolveSettings({}, { SHOAL_DHT_MODE: 'both' }), (err: unknown) => isShoalError(err, 'ERR_BAD_CONFIG') && err.message.startsWith('SHOAL_DHT_MODE:'))
    assert.throws(() => resolveSettings({ dhtMode: 'both' }, {}), (err: unknown) => isShoalError(err, 'ERR_BAD_CONFIG') && err.message.startsWith('--dht-mode:'))
  })

  it('parses sizes, rates and durations', () => {
    assert.equal(parseBytes('512k', 'x'), 512 * 1024)
    assert.equal(parseBytes('2GiB', 'x'), 2 * 1024 ** 3)
    assert.equal(parseBytes('1048576', 'x'), 1048576)
    assert.throws(() => parseBytes('lots', 'x'))
    assert.equal(parseRate('0', 'x'), 0)
    assert.equal(parseRate('unlimited', 'x'), 0)
    assert.equal(parseRate('80mbit', 'x'), 10_000_000)
    assert.equal(parseRate('10M', 'x'), 10 * 1024 * 1024)
    assert.equal(parseDuration('90', 'x'), 90_000)
    assert.equal(parseDuration('15m', 'x'), 900_000)
    assert.equal(parseDuration('inf', 'x'), Infinity)
    assert.throws(() => parseDuration('soon', 'x'))
  })
})
