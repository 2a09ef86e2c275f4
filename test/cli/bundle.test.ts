import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { killAllShoals, runShoal, SHOAL_MAIN, spawnShoal } from './helpers.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const BUNDLE_DIR = dirname(SHOAL_MAIN)
/** Packages the bundle may load from node_modules (scripts/bundle-cli.ts EXTERNAL). */
const EXTERNAL = new Set(['classic-level'])
const PACKAGE_NAME = /^(@[a-z0-9._-]+\/)?[a-z0-9._-]+(\/[\w./-]*)?$/

// Counts every file: URL a process loads (ES modules and CommonJS alike) and prints it at exit.
const COUNTING_HOOK = `import { registerHooks } from 'node:module'
import { writeSync } from 'node:fs'
let files = 0
registerHooks({ load (url, context, nextLoad) { if (url.startsWith('file:')) files++; return nextLoad(url, context) } })
process.on('exit', () => { writeSync(2, '\\nloaded-files ' + files + '\\n') })
`

describe('the shoal bin is the bundled CLI', () => {
  let dir: string
  let hook: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-bundle-'))
    hook = join(dir, 'count-loads.mjs')
    await writeFile(hook, COUNTING_HOOK)
  })
  after(async () => {
    await killAllShoals()
    await rm(dir, { recursive: true, force: true })
  })

  it('package.json points the bin at the bundle, which keeps main.js\'s shebang (the node flags scripts read)', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }
    assert.equal(join(ROOT, pkg.bin.shoal!), SHOAL_MAIN)
    const firstLine = async (file: string): Promise<string> => (await readFile(file, 'utf8')).split('\n', 1)[0]!
    assert.equal(await firstLine(SHOAL_MAIN), await firstLine(join(ROOT, 'dist', 'src', 'cli', 'main.js')))
  })

  it('imports nothing from node_modules but the declared externals', async () => {
    const foreign = new Set<string>()
    for (const file of (await readdir(BUNDLE_DIR)).filter(f => f.endsWith('.js'))) {
      const code = await readFile(join(BUNDLE_DIR, file), 'utf8')
      // minified output has no comments; what still matches inside a string literal is not a package name
      for (const m of code.matchAll(/\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|\bimport\s*["']([^"']+)["']/g)) {
        const spec = m[1] ?? m[2] ?? m[3]!
        if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec) || !PACKAGE_NAME.test(spec)) continue
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!
        if (!EXTERNAL.has(name)) foreign.add(`${spec} (${file})`)
      }
    }
    assert.deepEqual([...foreign], [])
  })

  it('starts a node loading a few dozen files, not the ~800 modules of the unbundled CLI', async () => {
    const file = join(dir, 'one-kib.bin')
    await writeFile(file, Buffer.alloc(1024, 7))
    const seed = spawnShoal(['seed', file, '--json', '--data-dir', join(dir, 'data'), '--listen', '/ip4/127.0.0.1/tcp/0'], { env: { NODE_OPTIONS: `--import=${hook}` } })
    const result = await seed.waitForLine(l => l.type === 'result', 60_000)
    assert.match(String(result.cid), /^bafy/)
    seed.child.kill('SIGTERM')
    await seed.exited
    const loaded = Number(/loaded-files (\d+)/.exec(seed.stderr())?.[1] ?? NaN)
    console.log(`# shoal seed loaded ${loaded} files`)
    assert.ok(loaded > 0 && loaded < 100, `loaded ${loaded} files`)
  })

  it('answers --version without loading libp2p', async () => {
    const r = await runShoal(['--version'], { env: { NODE_OPTIONS: `--import=${hook}` } })
    assert.equal(r.code, 0)
    assert.equal(r.stdout.trim(), '0.1.0')
    const loaded = Number(/loaded-files (\d+)/.exec(r.stderr)?.[1] ?? NaN)
    assert.ok(loaded > 0 && loaded < 10, `loaded ${loaded} files`)
  })
})
