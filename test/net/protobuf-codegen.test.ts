import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { globSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const run = promisify(execFile)

/** The .proto globs of `npm run generate`, read from package.json so the test checks the real script. */
function generatePatterns (): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }
  const script = pkg.scripts?.generate ?? ''
  const [command, ...args] = script.split(/\s+/).filter(word => word.length > 0)
  assert.equal(command, 'protons', `the generate script should run protons, it is ${JSON.stringify(script)}`)
  return args
}

/** The protons CLI the project installed (its package does not export the bin path). */
function protonsBin (): string {
  const dir = join(ROOT, 'node_modules', 'protons')
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bin: { protons: string } }
  return join(dir, pkg.bin.protons)
}

describe('generated protobuf codecs', () => {
  const out = mkdtempSync(join(tmpdir(), 'shoal-protons-'))
  after(() => { rmSync(out, { recursive: true, force: true }) })

  it('are exactly what `npm run generate` writes (never edited by hand)', async () => {
    const protos = generatePatterns().flatMap(pattern => globSync(pattern, { cwd: ROOT })).sort()
    assert.ok(protos.length >= 2, `the generate script matched ${protos.length} .proto files`)
    const bin = protonsBin()
    await run(process.execPath, [bin, '--output', out, ...protos], { cwd: ROOT, timeout: 60_000 })
    for (const proto of protos) {
      const name = `${basename(proto, '.proto')}.ts`
      const committed = readFileSync(join(ROOT, dirname(proto), name), 'utf8')
      const generated = readFileSync(join(out, name), 'utf8')
      assert.ok(committed === generated, `${join(dirname(proto), name)} differs from what protons generates from ${proto}: run \`npm run generate\``)
    }
  })

  it('exist only beside their .proto file', () => {
    const protos = new Set(generatePatterns().flatMap(pattern => globSync(pattern, { cwd: ROOT })))
    for (const codec of globSync('src/**/pb/*.ts', { cwd: ROOT })) {
      assert.ok(protos.has(codec.replace(/\.ts$/, '.proto')), `${codec} has no .proto in the generate script`)
    }
  })
})
