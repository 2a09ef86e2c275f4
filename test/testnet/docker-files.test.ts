import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { lintDockerfile, parseDockerignore } from './dockerfile-rules.js'
import { ensureTool, ROOT, run } from './helpers.js'

const DOCKERFILE = join(ROOT, 'docker', 'Dockerfile')
const COMPOSE = join(ROOT, 'docker', 'compose.yaml')
const ENTRYPOINT = join(ROOT, 'docker', 'entrypoint.sh')

describe('docker/Dockerfile (offline lint: hadolint is not in Debian, docker build --check needs an engine)', () => {
  let text: string
  let ignored: string[]
  before(async () => {
    text = await readFile(DOCKERFILE, 'utf8')
    ignored = parseDockerignore(await readFile(join(ROOT, 'docker', 'Dockerfile.dockerignore'), 'utf8'))
  })

  it('passes every rule', () => {
    assert.deepEqual(lintDockerfile(text, ROOT, ignored), [])
  })

  it('excludes node_modules and dist from the build context', () => {
    assert.ok(ignored.includes('node_modules') && ignored.includes('dist'), ignored.join(' '))
  })

  it('flags each broken rule (the lint can fail)', () => {
    const broken: Array<[string, string, RegExp]> = [
      ['node:24-bookworm-slim AS runtime', 'node:latest AS runtime', /base image node:latest/],
      ['--omit=dev ', '', /lacks --omit=dev/],
      ['npm ci --omit=dev --ignore-scripts', 'npm ci --omit=dev', /lacks --ignore-scripts/],
      ['USER node', 'USER root', /runs as root/],
      ['ENTRYPOINT ["/app/docker/entrypoint.sh"]', 'ENTRYPOINT /app/docker/entrypoint.sh', /exec \(JSON array\) form/],
      ['COPY --from=build', 'COPY --from=builder', /names no earlier stage/],
      ['COPY src ./src', 'COPY srcs ./src', /does not exist/],
      ['COPY tsconfig.json ./', 'COPY dist ./dist', /excluded by the .dockerignore/],
      ['RUN npm run build', 'RUN npm install', /npm install/]
    ]
    for (const [from, to, problem] of broken) {
      assert.ok(text.includes(from), `the Dockerfile no longer contains "${from}"; update this test`)
      const problems = lintDockerfile(text.replace(from, to), ROOT, ignored)
      assert.ok(problems.some(p => problem.test(p)), `replacing "${from}" with "${to}" gave: ${problems.join('; ')}`)
    }
    const noHealth = text.replace(/HEALTHCHECK[^\n]*\\\n[^\n]*\n/, '')
    assert.ok(lintDockerfile(noHealth, ROOT, ignored).some(p => /HEALTHCHECK/.test(p)))
  })

  it('needs at runtime only packages that npm ci --omit=dev installs', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
    const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean, devOptional?: boolean }> }
    const deps = new Set(Object.keys(pkg.dependencies))
    const builtins = new Set(builtinModules)
    const missing = new Set<string>()
    const transitive = new Set<string>()
    const files = (await readdir(join(ROOT, 'dist', 'src'), { recursive: true })).filter(f => f.endsWith('.js'))
    assert.ok(files.length > 10, 'dist/src is not built')
    for (const f of files) {
      const src = await readFile(join(ROOT, 'dist', 'src', f), 'utf8')
      for (const m of src.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)) {
        const spec = m[1] ?? m[2] ?? m[3]!
        if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!
        if (deps.has(name)) continue
        // not declared: it only works if a production dependency pulls it in at the top level
        const entry = lock.packages[`node_modules/${name}`]
        if (entry === undefined || entry.dev === true || entry.devOptional === true) missing.add(`${name} (dist/src/${f})`)
        else transitive.add(name)
      }
    }
    if (transitive.size > 0) console.log(`# imported but only a transitive production dependency (declare it in package.json): ${[...transitive].join(', ')}`)
    assert.deepEqual([...missing], [], 'imported at runtime but not installed by npm ci --omit=dev')
  })
})

describe('docker/compose.yaml', () => {
  const why = ensureTool('docker-compose', ['version'], 'docker-compose')
  if (why !== undefined) console.log(`# compose validation skipped: ${why}`)
  let dir = ''
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'shoal-compose-test-')) })
  after(async () => { if (dir !== '') await rm(dir, { recursive: true, force: true }) })

  // an empty environment: the file must validate with every variable at its default
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' }
  const compose = async (file: string, ...args: string[]): Promise<ReturnType<typeof run>> =>
    await run('docker-compose', ['--project-directory', join(ROOT, 'docker'), '-f', file, ...args], { env, timeoutMs: 60_000 })

  it('validates with docker-compose config', { skip: why }, async () => {
    const r = await compose(COMPOSE, 'config', '-q')
    assert.equal(r.code, 0, r.stderr)
  })

  it('has bootstrap nodes with persisted keys, a seeder and a scalable peer service', { skip: why }, async () => {
    const services = (await compose(COMPOSE, 'config', '--services')).stdout.trim().split('\n').sort()
    assert.deepEqual(services, ['bootstrap', 'bootstrap-2', 'peer', 'seeder'])
    const volumes = (await compose(COMPOSE, 'config', '--volumes')).stdout.trim().split('\n').sort()
    assert.deepEqual(volumes, ['bootstrap-2-data', 'bootstrap-data', 'seeder-data', 'share'])
    const full = (await compose(COMPOSE, 'config')).stdout
    const peer = full.slice(full.indexOf('\n  peer:'), full.indexOf('\n  seeder:'))
    assert.ok(!/container_name|ports:|hostname:/.test(peer), `the peer service must scale: no container_name, fixed ports or hostname\n${peer}`)
    assert.match(full, /- bootstrap-data:\/data/)
  })

  it('rejects a broken compose file (the validator can fail)', { skip: why }, async () => {
    const text = await readFile(COMPOSE, 'utf8')
    const bad = join(dir, 'compose.yaml')
    await writeFile(bad, text.replace('    environment:\n      <<: *env\n      SHOAL_ROLE: peer', '    enviroment:\n      <<: *env\n      SHOAL_ROLE: peer'))
    const r = await compose(bad, 'config', '-q')
    assert.notEqual(r.code, 0)
  })

  it('documents in docs/testnet.md every variable the compose file and the entrypoint read', async () => {
    const doc = await readFile(join(ROOT, 'docs', 'testnet.md'), 'utf8')
    const used = new Set<string>()
    for (const file of [COMPOSE, ENTRYPOINT]) {
      for (const m of (await readFile(file, 'utf8')).matchAll(/\bSHOAL_[A-Z0-9_]+/g)) used.add(m[0])
    }
    const undocumented = [...used].filter(v => !doc.includes('`' + v + '`'))
    assert.deepEqual(undocumented, [])
  })
})

describe('docker/entrypoint.sh outside docker', () => {
  const sc = ensureTool('shellcheck', ['--version'], 'shellcheck')
  if (sc !== undefined) console.log(`# shellcheck skipped: ${sc}`)
  let share = ''
  before(async () => { share = await mkdtemp(join(tmpdir(), 'shoal-entrypoint-test-')) })
  after(async () => { if (share !== '') await rm(share, { recursive: true, force: true }) })
  const bash = async (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<ReturnType<typeof run>> =>
    await run('bash', args, { env: { PATH: process.env.PATH, HOME: share, SHOAL_DATA_DIR: join(share, 'data'), SHOAL_SHARE_DIR: join(share, 'share'), ...extra }, timeoutMs: 60_000 })

  it('parses (bash -n)', async () => {
    for (const f of [ENTRYPOINT, join(ROOT, 'scripts', 'testnet-local.sh'), join(ROOT, 'scripts', 'testnet-netns.sh')]) {
      const r = await bash(['-n', f])
      assert.equal(r.code, 0, `${f}: ${r.stderr}`)
    }
  })

  it('is clean under shellcheck', { skip: sc }, async () => {
    const r = await run('shellcheck', ['-x', ENTRYPOINT, join(ROOT, 'scripts', 'testnet-local.sh'), join(ROOT, 'scripts', 'testnet-netns.sh')], { timeoutMs: 60_000 })
    assert.equal(r.code, 0, r.stdout + r.stderr)
  })

  it('refuses to run without a role, and names the variable', async () => {
    const r = await bash([ENTRYPOINT])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /set SHOAL_ROLE to bootstrap, seeder or peer/)
    const bad = await bash([ENTRYPOINT], { SHOAL_ROLE: 'leecher' })
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /unknown role 'leecher'/)
  })

  it('health fails when no node answers', async () => {
    const r = await bash([ENTRYPOINT, 'health'], { SHOAL_API: '127.0.0.1:9' })
    assert.equal(r.code, 1)
  })

  it('gives up on a missing bootstrap node after SHOAL_WAIT seconds with a clear message', async () => {
    const started = performance.now()
    const r = await bash([ENTRYPOINT], { SHOAL_ROLE: 'peer', SHOAL_WAIT: '1', SHOAL_NAME: 'peer-x' })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /gave up after 1s waiting for 1 bootstrap address\(es\)/)
    assert.ok(performance.now() - started < 30_000)
  })
})
