// The seams issue 10 drew, checked on the sources: only src/net touches libp2p's services, node
// reaches xfer only through net's surface, content state needs no non-null assertions, and every
// event emitter is libp2p's TypedEventEmitter.
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
// spelt in two parts so this file does not match itself
const SERVICES = 'libp2p' + '.services'

async function sources (dir: string): Promise<Array<{ path: string, text: string }>> {
  const out: Array<{ path: string, text: string }> = []
  for (const entry of await readdir(join(ROOT, dir), { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue
    const full = join(entry.parentPath, entry.name)
    out.push({ path: relative(ROOT, full), text: await readFile(full, 'utf8') })
  }
  return out
}

describe('layer seams', () => {
  it('no file outside src/net and test/net reaches into the libp2p node\'s services', async () => {
    const files = [...await sources('src'), ...await sources('test'), ...await sources('examples')]
    const offenders = files
      .filter(f => !f.path.startsWith('src/net/') && !f.path.startsWith('test/net/'))
      .filter(f => f.text.includes(SERVICES))
      .map(f => f.path)
    assert.deepEqual(offenders, [])
  })

  it('src/node imports nothing from src/net/xfer and nothing from a layer above it', async () => {
    for (const f of await sources('src/node')) {
      for (const [, spec] of f.text.matchAll(/from '([^']+)'/g)) {
        assert.ok(!spec!.includes('/net/xfer'), `${f.path} imports ${spec}`)
        assert.ok(!/^\.\.\/(cli|api)\/|^\.\.\/(shoal|index)\.js$/.test(spec!), `${f.path} imports ${spec} (upward)`)
      }
    }
  })

  it('src/registry is an interface: it imports no CLI and no libp2p internals, and nothing below imports it', async () => {
    for (const f of await sources('src/registry')) {
      for (const [, spec] of f.text.matchAll(/from '([^']+)'/g)) {
        assert.ok(!/^\.\.\/(cli|net|swarm|store)\/|^\.\.\/(shoal|index)\.js$/.test(spec!), `${f.path} imports ${spec}`)
      }
    }
    for (const dir of ['src/node', 'src/net', 'src/swarm', 'src/store', 'src/content', 'src/util']) {
      for (const f of await sources(dir)) assert.ok(!/from '[^']*\/registry\//.test(f.text), `${f.path} imports src/registry (upward)`)
    }
  })

  it('src/node has no non-null assertion on a member or call (`x!.y`, `x!)`)', async () => {
    for (const f of await sources('src/node')) {
      const code = f.text.replace(/\/\/.*$/gm, '').replace(/'[^'\n]*'|`[^`]*`/g, '""')
      const hits = [...code.matchAll(/[\w\])]!(?=[.)])/g)]
      assert.deepEqual(hits.map(m => code.slice(Math.max(0, m.index - 30), m.index + 3)), [], f.path)
    }
  })

  it('one event style: no home-made emitter, no node:events in src', async () => {
    for (const f of await sources('src')) {
      assert.ok(!/from 'node:events'/.test(f.text), `${f.path} uses Node's EventEmitter`)
      assert.ok(!/\bTypedEmitter\b/.test(f.text), `${f.path} uses the home-made TypedEmitter`)
    }
  })
})
