import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { checkKubernetesManifest, parseManifest } from './check-kubernetes-manifest.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const MIRROR = join(ROOT, 'deploy', 'kubernetes', 'shoal-mirror.yaml')
const BOOTSTRAP = join(ROOT, 'deploy', 'kubernetes', 'shoal-bootstrap.yaml')

describe('deploy/kubernetes/*.yaml (offline: typed Kubernetes models, no cluster)', () => {
  const text = readFileSync(MIRROR, 'utf8')
  const bootstrapText = readFileSync(BOOTSTRAP, 'utf8')
  /** Both files, as `kubectl apply -f` of both sees them (the bootstrap file uses the mirror's namespace and Secret). */
  const check = (mirror: string, bootstrap: string): string[] => checkKubernetesManifest([...parseManifest(mirror), ...parseManifest(bootstrap)])

  it('validates against the Kubernetes models and agrees with the code', () => {
    assert.deepEqual(parseManifest(text).map(o => o.kind), ['Namespace', 'ServiceAccount', 'ConfigMap', 'ConfigMap', 'DaemonSet'])
    assert.deepEqual(parseManifest(bootstrapText).map(o => o.kind), ['Service', 'StatefulSet'])
    assert.deepEqual(check(text, bootstrapText), [])
  })

  it('probes with the health command docker/Dockerfile runs', () => {
    const dockerfile = readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8')
    assert.match(dockerfile, /CMD \["\/app\/docker\/entrypoint\.sh", "health"\]/)
    assert.match(bootstrapText, /command: \["\/app\/docker\/entrypoint\.sh", "health"\]/)
  })

  it('flags each broken manifest (the check can fail)', () => {
    const broken: Array<[string, string, RegExp]> = [
      ['name: SHOAL_CACHE_TTI', 'name: SHOAL_CACHE_TIME', /SHOAL_CACHE_TIME is not a setting/],
      ['value: 20G', 'value: twenty', /settings do not parse.*SHOAL_CACHE_MAX/],
      ['path: /v1/health\n              port: 7070\n            initialDelaySeconds: 5', 'path: /v1/status\n              port: 7070\n            initialDelaySeconds: 5', /readinessProbe path \/v1\/status is not a public/],
      ['port: 7070\n            initialDelaySeconds: 30', 'port: 7071\n            initialDelaySeconds: 30', /livenessProbe port 7071 is not SHOAL_API's port 7070/],
      ['[host."http://127.0.0.1:5000"]\n      capabilities = ["pull", "resolve"]\n  ghcr', '[host."http://127.0.0.1:5001"]\n      capabilities = ["pull", "resolve"]\n  ghcr', /docker.io points at http:\/\/127.0.0.1:5001/],
      ['server = "https://ghcr.io"', 'server = "https://ghcr.example"', /ghcr.io: server https:\/\/ghcr.example is not its upstream/],
      ['mountPath: /data\n            - name: swarm-key', 'mountPath: /var/data\n            - name: swarm-key', /DaemonSet's SHOAL_DATA_DIR \/data must be a hostPath volume/],
      ['containerPort: 4001', 'containerPort: "4001"', /DaemonSet shoal-mirror.*containerPort must be integer/],
      ['key: upstream\n', 'key: upstreams\n', /ConfigMap shoal-mirror key upstreams/],
      ['hostNetwork: true', 'hostNetwork: false', /must use hostNetwork/],
      ['            readOnlyRootFilesystem: true\n            capabilities:\n              drop: ["ALL"]\n          volumeMounts', '            readOnlyRootFilesystem: false\n            capabilities:\n              drop: ["ALL"]\n          volumeMounts', /read-only root fs/],
      ['kind: DaemonSet', 'kind: DaemonSett', /kind DaemonSett is not a kind/]
    ]
    for (const [from, to, problem] of broken) {
      assert.ok(text.includes(from), `the manifest no longer contains ${JSON.stringify(from)}; update this test`)
      const problems = check(text.replace(from, to), bootstrapText)
      assert.ok(problems.some(p => problem.test(p)), `replacing ${JSON.stringify(from)} gave: ${problems.join('; ')}`)
    }
    const brokenBootstrap: Array<[string, string, RegExp]> = [
      ['name: SHOAL_ANNOUNCE', 'name: SHOAL_ANNOUNCED', /SHOAL_ANNOUNCED is not a setting/],
      ['command: ["/app/docker/entrypoint.sh", "health"]', 'command: ["/app/docker/entrypoint.sh", "status"]', /StatefulSet shoal-bootstrap: readinessProbe runs .* not the image's health check/],
      ['exec:\n              command: ["/app/docker/entrypoint.sh", "health"]\n            initialDelaySeconds: 30', 'httpGet:\n              host: 127.0.0.1\n              path: /v1/health\n              port: 7070\n            initialDelaySeconds: 30', /livenessProbe is an httpGet to a loopback API without hostNetwork/],
      ['  volumeClaimTemplates:\n    - metadata:\n        name: data', '  volumeClaimTemplates:\n    - metadata:\n        name: state', /StatefulSet shoal-bootstrap: SHOAL_DATA_DIR \/data is not a hostPath or claimed volume/],
      ['replicas: 2', 'replicas: two', /StatefulSet shoal-bootstrap.*replicas must be integer/]
    ]
    for (const [from, to, problem] of brokenBootstrap) {
      assert.ok(bootstrapText.includes(from), `the bootstrap manifest no longer contains ${JSON.stringify(from)}; update this test`)
      const problems = check(text, bootstrapText.replace(from, to))
      assert.ok(problems.some(p => problem.test(p)), `replacing ${JSON.stringify(from)} gave: ${problems.join('; ')}`)
    }
    assert.throws(() => parseManifest(text.replace('kind: DaemonSet', 'kind: [DaemonSet')), /YAML/)
  })

  // Runs as root only (CI is root): handing the data dir to uid 1000 is a chown, which other users cannot do.
  it('its init container installs each hosts.toml and hands the data dir to uid 1000 (the script, run on temp dirs)', { skip: process.getuid?.() !== 0 ? 'chown needs root' : false }, () => {
    const objects = parseManifest(text)
    const pod = (objects.find(o => o.kind === 'DaemonSet') as unknown as { spec: { template: { spec: { initContainers: Array<{ command: string[], volumeMounts: Array<{ name: string, mountPath: string }> }> } } } }).spec.template.spec
    const init = pod.initContainers[0]!
    const hosts = (objects.find(o => o.kind === 'ConfigMap' && o.metadata?.name === 'shoal-containerd-hosts')!).data!
    const tmp = mkdtempSync(join(tmpdir(), 'shoal-k8s-init-'))
    try {
      // Each mount point becomes a temp dir; a path in the script outside every mount would touch
      // this machine, so the test refuses to run it.
      let script = init.command.at(-1)!
      const mounts = [...init.volumeMounts].sort((a, b) => b.mountPath.length - a.mountPath.length)
      for (const path of script.match(/(?<=[\s"'])\/[\w.-]+/g) ?? []) {
        assert.ok(mounts.some(m => path === m.mountPath), `the init script names ${path}, which is not one of its mounts`)
      }
      for (const m of mounts) {
        mkdirSync(join(tmp, m.name))
        // only whole paths: /hosts, not the /hosts of /certs.d/x/hosts.toml
        const escaped = m.mountPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        script = script.replace(new RegExp(`(?<=[\\s"'])${escaped}(?=[/\\s"']|$)`, 'g'), join(tmp, m.name))
      }
      // as the kubelet lays out a ConfigMap volume: each key a symlink into a ..data folder
      mkdirSync(join(tmp, 'containerd-hosts', '..data'))
      for (const [key, toml] of Object.entries(hosts)) {
        writeFileSync(join(tmp, 'containerd-hosts', '..data', key), toml)
        symlinkSync(join('..data', key), join(tmp, 'containerd-hosts', key))
      }
      const out = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8', timeout: 10_000 })
      for (const [key, toml] of Object.entries(hosts)) {
        const file = join(tmp, 'containerd-certs-d', key.replace(/\.toml$/, ''), 'hosts.toml')
        assert.equal(readFileSync(file, 'utf8'), toml)
        assert.equal(statSync(file).mode & 0o777, 0o644)
        assert.ok(out.includes(`installed the hosts.toml of ${key.replace(/\.toml$/, '')}\n`), out)
      }
      const data = statSync(join(tmp, 'data'))
      assert.deepEqual([data.uid, data.gid, data.mode & 0o777], [1000, 1000, 0o700])
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  })
})
