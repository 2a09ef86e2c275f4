import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureDebianTools } from '../../scripts/lib/debian-packages.js'
import { freePort } from '../net/helpers.js'
import { run } from '../testnet/helpers.js'

export { buildTestImage } from '../../scripts/lib/oci-image.js'
export type { TestImage } from '../../scripts/lib/oci-image.js'

/** A port on 127.0.0.1 that was free a moment ago (test/net's helper, for the registry tests). */
export { freePort }

/** Makes docker-registry, skopeo and htpasswd available (installing them as root); why not, or undefined. */
export function registryTools (): string | undefined {
  return ensureDebianTools([
    { command: 'docker-registry', pkg: 'docker-registry' },
    { command: 'skopeo', pkg: 'skopeo' },
    { command: 'htpasswd', pkg: 'apache2-utils' }
  ])
}

/** A running Debian docker-registry (CNCF distribution 2.8) with its access log. */
export interface RunningRegistry {
  url: string
  host: string
  log: () => string
  /** Blob GETs answered 200, per digest, from the access log. */
  blobGets: () => Map<string, number>
  stop: () => Promise<void>
}

/** Starts docker-registry on a loopback port with its storage in `dir` (and htpasswd basic auth when given). */
export async function startRegistry (dir: string, options: { port?: number, htpasswd?: { user: string, password: string } } = {}): Promise<RunningRegistry> {
  const port = options.port ?? await freePort()
  await mkdir(join(dir, 'storage'), { recursive: true })
  let auth = ''
  if (options.htpasswd !== undefined) {
    const file = join(dir, 'htpasswd')
    // bcrypt, the only scheme distribution's htpasswd accepts
    const line = await run('htpasswd', ['-Bbn', options.htpasswd.user, options.htpasswd.password], { timeoutMs: 30_000 })
    await writeFile(file, line.stdout.trim() + '\n')
    auth = `auth:\n  htpasswd:\n    realm: shoal-test\n    path: ${file}\n`
  }
  const config = join(dir, 'config.yml')
  await writeFile(config, `version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: ${join(dir, 'storage')}
http:
  addr: 127.0.0.1:${port}
${auth}`)
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { log += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { log += d })
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    const ok = await fetch(`${url}/v2/`).then(r => r.status === 200 || r.status === 401, () => false)
    if (ok) break
    if (Date.now() > deadline || child.exitCode !== null) { child.kill('SIGKILL'); throw new Error(`docker-registry did not start: ${log}`) }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    log: () => log,
    blobGets: () => {
      const counts = new Map<string, number>()
      for (const m of log.matchAll(/"GET \/v2\/[^ ]+\/blobs\/(sha256:[a-f0-9]{64}) HTTP\/[\d.]+" 200 /g)) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1)
      return counts
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    }
  }
}

function sha256 (bytes: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex')
}

/** What an `oci:` layout written by skopeo holds: its manifest's digest and every blob checked against its name. */
export async function readPulledLayout (dir: string): Promise<{ manifestDigest: string, blobs: string[] }> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> }
  const manifestDigest = index.manifests[0]!.digest
  const manifest = JSON.parse(await readFile(join(dir, 'blobs', 'sha256', manifestDigest.slice(7)), 'utf8')) as { config: { digest: string }, layers: Array<{ digest: string }> }
  const blobs: string[] = []
  for (const digest of [manifest.config.digest, ...manifest.layers.map(l => l.digest)]) {
    const bytes = await readFile(join(dir, 'blobs', 'sha256', digest.slice(7)))
    if (sha256(bytes) !== digest) throw new Error(`pulled blob ${digest} hashes to ${sha256(bytes)}`)
    blobs.push(digest)
  }
  return { manifestDigest, blobs }
}

/** Runs skopeo with a permissive policy of its own (the machine's may be missing). */
export async function skopeo (policyDir: string, args: string[], timeoutMs = 60_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const policy = join(policyDir, 'policy.json')
  await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }))
  const r = await run('skopeo', ['--policy', policy, ...args], { timeoutMs, env: { ...process.env, REGISTRY_AUTH_FILE: join(policyDir, 'auth.json') } })
  return { code: r.code, stdout: r.stdout, stderr: r.stderr }
}
