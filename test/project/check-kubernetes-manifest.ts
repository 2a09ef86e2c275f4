import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1'
import { DaemonSet, Deployment, StatefulSet } from 'kubernetes-models/apps/v1'
import { parseAllDocuments } from 'yaml'
import { contentRoutes } from '../../src/api/routes/content-routes.js'
import { resolveSettings, SETTINGS } from '../../src/cli/settings.js'

/** A Kubernetes object as it comes out of the YAML: only the fields the checks read are typed. */
interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata?: { name?: string, namespace?: string }
  data?: Record<string, string>
  spec?: { template?: { spec?: PodSpec }, volumeClaimTemplates?: Array<{ metadata?: { name?: string } }> }
}
interface PodSpec {
  hostNetwork?: boolean
  containers?: Container[]
  initContainers?: Container[]
  volumes?: Array<{ name: string, hostPath?: { path: string }, configMap?: { name: string }, secret?: { secretName: string } }>
}
interface EnvVar {
  name: string
  value?: string
  valueFrom?: {
    configMapKeyRef?: { name: string, key: string, optional?: boolean }
    secretKeyRef?: { name: string, key: string, optional?: boolean }
  }
}
interface Probe { httpGet?: { host?: string, path?: string, port?: number | string }, exec?: { command?: string[] } }
interface Container {
  name: string
  env?: EnvVar[]
  ports?: Array<{ containerPort: number }>
  readinessProbe?: Probe
  livenessProbe?: Probe
  volumeMounts?: Array<{ name: string, mountPath: string }>
  securityContext?: { runAsNonRoot?: boolean, readOnlyRootFilesystem?: boolean, allowPrivilegeEscalation?: boolean, privileged?: boolean }
}

/** The typed model of each kind this project ships, keyed `apiVersion/kind`. */
const MODELS: Record<string, new (data: never) => { validate: () => void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet
}

const SETTING_ENVS = new Set(SETTINGS.map(s => s.env))
/** docker/Dockerfile's HEALTHCHECK: GET /v1/health on SHOAL_API from inside the container. */
const HEALTH_COMMAND = '/app/docker/entrypoint.sh health'

const isLoopback = (host: string): boolean => host === 'localhost' || host === '[::1]' || host.startsWith('127.')

/** Parses a multi-document YAML file into its objects; a syntax error throws. */
export function parseManifest (text: string): KubeObject[] {
  return parseAllDocuments(text).flatMap(doc => {
    if (doc.errors.length > 0) throw new Error(`YAML: ${doc.errors.map(e => e.message).join('; ')}`)
    const value = doc.toJS() as KubeObject | null
    return value === null ? [] : [value]
  })
}

/** `host:port` -> port, or undefined. */
function portOf (address: string): number | undefined {
  const m = /:(\d+)$/.exec(address)
  return m === null ? undefined : Number(m[1])
}

/** The `server` and every `[host."..."]` URL of a containerd hosts.toml (the two forms this project writes). */
export function hostsTomlUrls (toml: string): { server: string | undefined, hosts: string[] } {
  const server = /^\s*server\s*=\s*"([^"]+)"/m.exec(toml)?.[1]
  const hosts = [...toml.matchAll(/^\s*\[host\."([^"]+)"\]/gm)].map(m => m[1]!)
  return { server, hosts }
}

/**
 * Every problem of a manifest: objects the typed Kubernetes models reject, and what must agree with
 * the code (settings, the public health route, the mirror's port in hosts.toml, the data dir mount).
 * An empty list means it passed.
 */
export function checkKubernetesManifest (objects: KubeObject[]): string[] {
  const problems: string[] = []
  for (const [i, o] of objects.entries()) {
    const what = `object ${i} (${o.kind ?? '?'} ${o.metadata?.name ?? '?'})`
    const Model = MODELS[`${o.apiVersion}/${o.kind}`]
    if (Model === undefined) {
      problems.push(`${what}: apiVersion ${o.apiVersion} kind ${o.kind} is not a kind this check knows`)
      continue
    }
    try {
      new Model(o as never).validate()
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`)
    }
  }

  const configMaps = new Map(objects.filter(o => o.kind === 'ConfigMap').map(o => [o.metadata?.name ?? '', o.data ?? {}]))
  const workloads = objects.filter(o => o.spec?.template?.spec !== undefined)
  for (const w of workloads) problems.push(...checkWorkload(w, configMaps))
  const daemonSets = objects.filter(o => o.kind === 'DaemonSet')
  if (daemonSets.length !== 1) problems.push(`expected one DaemonSet, found ${daemonSets.length}`)
  if (daemonSets[0] !== undefined) problems.push(...checkMirror(daemonSets[0], configMaps))
  return problems
}

/** The environment shoal sees in a container: literal values, with ConfigMap keys resolved. */
function containerEnv (c: Container, configMaps: Map<string, Record<string, string>>, problems: string[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const e of c.env ?? []) {
    if (e.name.startsWith('SHOAL_') && !SETTING_ENVS.has(e.name)) problems.push(`env ${e.name} is not a setting of src/cli/settings.ts`)
    const cm = e.valueFrom?.configMapKeyRef
    if (cm !== undefined) {
      const value = configMaps.get(cm.name)?.[cm.key]
      if (value === undefined) problems.push(`env ${e.name} reads ConfigMap ${cm.name} key ${cm.key}, which the manifest does not define`)
      else env[e.name] = value
    } else if (e.valueFrom?.secretKeyRef !== undefined) {
      if (e.valueFrom.secretKeyRef.optional !== true) problems.push(`env ${e.name} reads a Secret that is not in the manifest: mark it optional or document it`)
    } else if (e.value !== undefined) {
      env[e.name] = e.value
    }
  }
  return env
}

/** What every workload running shoal must get right: settings, probes, data dir, ports, privileges. */
function checkWorkload (w: KubeObject, configMaps: Map<string, Record<string, string>>): string[] {
  const problems: string[] = []
  const name = `${w.kind} ${w.metadata?.name}`
  const pod = w.spec?.template?.spec ?? {}
  const shoal = pod.containers?.find(c => c.name === 'shoal')
  if (shoal === undefined) return [`${name} has no container named shoal`]
  const env = containerEnv(shoal, configMaps, problems)
  let settings: ReturnType<typeof resolveSettings> | undefined
  try {
    settings = resolveSettings({}, env)
  } catch (err) {
    problems.push(`${name}: the container's settings do not parse: ${(err as Error).message}`)
  }
  for (const key of ['SHOAL_DATA_DIR', 'SHOAL_API']) {
    if (env[key] === undefined || env[key] === '') problems.push(`${name}: the shoal container must set ${key}`)
  }

  // Probes: the public health route on the API's own loopback address and port, asked by the kubelet
  // (host network) or by the image's health command from inside the pod.
  const apiPort = portOf(env.SHOAL_API ?? '')
  const apiHost = (env.SHOAL_API ?? '').replace(/:\d+$/, '')
  for (const [probeName, probe] of [['readinessProbe', shoal.readinessProbe], ['livenessProbe', shoal.livenessProbe]] as const) {
    const get = probe?.httpGet
    if (probe?.exec !== undefined) {
      if (probe.exec.command?.join(' ') !== HEALTH_COMMAND) problems.push(`${name}: ${probeName} runs "${probe.exec.command?.join(' ')}", not the image's health check (${HEALTH_COMMAND})`)
      continue
    }
    if (get === undefined) {
      problems.push(`${name}: the shoal container has no ${probeName} (httpGet, or exec ${HEALTH_COMMAND})`)
      continue
    }
    const route = contentRoutes.find(r => r.method === 'GET' && r.pattern.test(get.path ?? ''))
    if (route?.public !== true) problems.push(`${name}: ${probeName} path ${get.path} is not a public GET route of the control API (only /v1/health needs no token)`)
    if (Number(get.port) !== apiPort) problems.push(`${name}: ${probeName} port ${get.port} is not SHOAL_API's port ${apiPort}`)
    if (get.host !== apiHost) problems.push(`${name}: ${probeName} host ${get.host} is not SHOAL_API's host ${apiHost}`)
    if (pod.hostNetwork !== true && isLoopback(apiHost)) problems.push(`${name}: ${probeName} is an httpGet to a loopback API without hostNetwork: the kubelet would ask the node, not the pod`)
  }

  // The data dir is a persistent volume (hostPath or a claim) mounted exactly where SHOAL_DATA_DIR points.
  const dataMount = shoal.volumeMounts?.find(m => m.mountPath === env.SHOAL_DATA_DIR)
  const dataVolume = pod.volumes?.find(v => v.name === dataMount?.name)
  const claim = w.spec?.volumeClaimTemplates?.some(t => t.metadata?.name === dataMount?.name) === true
  if (dataVolume?.hostPath === undefined && !claim) problems.push(`${name}: SHOAL_DATA_DIR ${env.SHOAL_DATA_DIR} is not a hostPath or claimed volume mounted into the shoal container`)

  // libp2p's port is the one declared; the container runs unprivileged.
  const listenPorts = (settings?.listen ?? []).map(a => /\/tcp\/(\d+)/.exec(a)?.[1]).filter(p => p !== undefined).map(Number)
  for (const p of listenPorts) if (!(shoal.ports ?? []).some(cp => cp.containerPort === p)) problems.push(`${name}: SHOAL_LISTEN port ${p} is not a containerPort`)
  const sc = shoal.securityContext
  if (sc?.runAsNonRoot !== true || sc.readOnlyRootFilesystem !== true || sc.allowPrivilegeEscalation !== false || sc.privileged === true) {
    problems.push(`${name}: the shoal container must run non-root, with a read-only root fs and no privilege escalation`)
  }
  return problems
}

/** The node-local mirror: host network, its registry settings, containerd's hosts.toml files. */
function checkMirror (ds: KubeObject, configMaps: Map<string, Record<string, string>>): string[] {
  const problems: string[] = []
  const pod = ds.spec?.template?.spec ?? {}
  if (pod.hostNetwork !== true) problems.push('the DaemonSet must use hostNetwork: containerd reaches the mirror on the node\'s loopback')
  const shoal = pod.containers?.find(c => c.name === 'shoal')
  if (shoal === undefined) return problems
  const env = containerEnv(shoal, configMaps, [])
  for (const key of ['SHOAL_REGISTRY', 'SHOAL_UPSTREAM', 'SHOAL_BOOTSTRAP']) {
    if (env[key] === undefined || env[key] === '') problems.push(`the DaemonSet's shoal container must set ${key}`)
  }
  const dataMount = shoal.volumeMounts?.find(m => m.mountPath === env.SHOAL_DATA_DIR)
  if (pod.volumes?.find(v => v.name === dataMount?.name)?.hostPath === undefined) problems.push(`the DaemonSet's SHOAL_DATA_DIR ${env.SHOAL_DATA_DIR} must be a hostPath volume (the node's cache)`)

  // containerd's hosts.toml: every mirror URL is this node's mirror, every server the upstream of its registry.
  const mirrorUrl = `http://${env.SHOAL_REGISTRY ?? ''}`
  const upstreams = new Map((env.SHOAL_UPSTREAM ?? '').split(',').filter(s => s.includes('=')).map(s => s.split('=', 2) as [string, string]))
  const hostsVolume = pod.volumes?.find(v => v.configMap !== undefined && pod.initContainers?.some(c => c.volumeMounts?.some(m => m.name === v.name)))
  const hostsFiles = hostsVolume?.configMap === undefined ? undefined : configMaps.get(hostsVolume.configMap.name)
  if (hostsFiles === undefined || Object.keys(hostsFiles).length === 0) problems.push('no ConfigMap of hosts.toml files is mounted into an init container')
  for (const [key, toml] of Object.entries(hostsFiles ?? {})) {
    const registry = key.replace(/\.toml$/, '')
    const { server, hosts } = hostsTomlUrls(toml)
    if (hosts.length === 0) problems.push(`hosts.toml of ${registry} lists no [host."..."] mirror`)
    for (const h of hosts) if (h !== mirrorUrl) problems.push(`hosts.toml of ${registry} points at ${h}, the mirror is ${mirrorUrl} (SHOAL_REGISTRY)`)
    if (upstreams.size > 0 && !upstreams.has(registry)) problems.push(`hosts.toml of ${registry}: SHOAL_UPSTREAM has no ${registry}= entry`)
    if (upstreams.has(registry) && server !== upstreams.get(registry)) problems.push(`hosts.toml of ${registry}: server ${server} is not its upstream ${upstreams.get(registry)}`)
  }
  const certsD = pod.volumes?.find(v => v.hostPath?.path === '/etc/containerd/certs.d')
  if (certsD === undefined || !(pod.initContainers ?? []).some(c => c.volumeMounts?.some(m => m.name === certsD.name))) {
    problems.push('no init container mounts the hostPath /etc/containerd/certs.d')
  }
  return problems
}
