import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { checkKubernetesManifest, parseManifest } from './check-kubernetes-manifest.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const MANIFEST = join(ROOT, 'deploy', 'kubernetes', 'shoal-mirror.yaml')

describe('deploy/kubernetes/shoal-mirror.yaml (offline: typed Kubernetes models, no cluster)', () => {
  const text = readFileSync(MANIFEST, 'utf8')

  it('validates against the Kubernetes models and agrees with the code', () => {
    const objects = parseManifest(text)
    assert.deepEqual(objects.map(o => o.kind), ['Namespace', 'ServiceAccount', 'ConfigMap', 'ConfigMap', 'DaemonSet'])
    assert.deepEqual(checkKubernetesManifest(objects), [])
  })

  it('flags each broken manifest (the check can fail)', () => {
    const broken: Array<[string, string, RegExp]> = [
      ['name: SHOAL_CACHE_TTI', 'name: SHOAL_CACHE_TIME', /SHOAL_CACHE_TIME is not a setting/],
      ['value: 20G', 'value: twenty', /settings do not parse.*SHOAL_CACHE_MAX/],
      ['path: /v1/health\n              port: 7070\n            initialDelaySeconds: 5', 'path: /v1/status\n              port: 7070\n            initialDelaySeconds: 5', /readinessProbe path \/v1\/status is not a public/],
      ['port: 7070\n            initialDelaySeconds: 30', 'port: 7071\n            initialDelaySeconds: 30', /livenessProbe port 7071 is not SHOAL_API's port 7070/],
      ['[host."http://127.0.0.1:5000"]\n      capabilities = ["pull", "resolve"]\n  ghcr', '[host."http://127.0.0.1:5001"]\n      capabilities = ["pull", "resolve"]\n  ghcr', /docker.io points at http:\/\/127.0.0.1:5001/],
      ['server = "https://ghcr.io"', 'server = "https://ghcr.example"', /ghcr.io: server https:\/\/ghcr.example is not its upstream/],
      ['mountPath: /data\n            - name: swarm-key', 'mountPath: /var/data\n            - name: swarm-key', /SHOAL_DATA_DIR \/data is not a hostPath volume/],
      ['containerPort: 4001', 'containerPort: "4001"', /DaemonSet shoal-mirror.*containerPort must be integer/],
      ['key: upstream\n', 'key: upstreams\n', /ConfigMap shoal-mirror key upstreams/],
      ['hostNetwork: true', 'hostNetwork: false', /must use hostNetwork/],
      ['            readOnlyRootFilesystem: true\n            capabilities:\n              drop: ["ALL"]\n          volumeMounts', '            readOnlyRootFilesystem: false\n            capabilities:\n              drop: ["ALL"]\n          volumeMounts', /read-only root fs/],
      ['kind: DaemonSet', 'kind: DaemonSett', /kind DaemonSett is not a kind/]
    ]
    for (const [from, to, problem] of broken) {
      assert.ok(text.includes(from), `the manifest no longer contains ${JSON.stringify(from)}; update this test`)
      const problems = checkKubernetesManifest(parseManifest(text.replace(from, to)))
      assert.ok(problems.some(p => problem.test(p)), `replacing ${JSON.stringify(from)} gave: ${problems.join('; ')}`)
    }
    assert.throws(() => parseManifest(text.replace('kind: DaemonSet', 'kind: [DaemonSet')), /YAML/)
  })
})
