import { execFile, execFileSync, spawn } from 'node:child_process'
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/**
 * The bash library is the single source of truth for names, addresses and tc parameters; this
 * class only drives it. Compiled to dist/scripts/lib/, so the source tree is three levels up.
 */
const NETNS_SH_CANDIDATES = [
  fileURLToPath(new URL('../../../scripts/lib/netns.sh', import.meta.url)),
  fileURLToPath(new URL('./netns.sh', import.meta.url))
]

/** Upper bound on one ip/tc/bash call; setup of many hosts is a few hundred calls. */
const CALL_TIMEOUT_MS = 120_000

/** A testbed failure; its `code` (ERR_NETNS_*) belongs to the test tooling, not to shoal's list. */
export class NetnsError extends Error {
  readonly code: string

  constructor (code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = 'NetnsError'
  }
}

/** Options of NetnsTestbed.create. */
export interface NetnsTestbedInit {
  /** number of hosts h0..h(hosts-1) */
  hosts: number
  /** upload and download cap of every host, in Mbit/s (default 20) */
  rateMbit?: number
  /** extra names resolvable inside every host, e.g. { seeder: 0, 'peer-1': 1 } */
  names?: Record<string, number>
}

/** Path of scripts/lib/netns.sh. */
export function netnsScriptPath (): string {
  const found = NETNS_SH_CANDIDATES.find(p => existsSync(p))
  if (found === undefined) {
    throw new NetnsError('ERR_NETNS_SCRIPT_MISSING', `scripts/lib/netns.sh not found (looked at ${NETNS_SH_CANDIDATES.join(', ')}): run from a shoal checkout`)
  }
  return found
}

/** Why a testbed cannot be built here (not root, no Linux), or undefined when it can. */
export function netnsUnavailableReason (): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux, this is ${process.platform}`
  if (process.getuid?.() !== 0) return `network namespaces need root, uid is ${process.getuid?.()}`
  return undefined
}

function bashArgs (fn: string, args: Array<string | number>): string[] {
  // "$0" is the library, "$@" the arguments: nothing is interpolated into the script text.
  return ['-c', `set -o pipefail; source "$0" && ${fn} "$@"`, netnsScriptPath(), ...args.map(String)]
}

function bashEnv (): NodeJS.ProcessEnv {
  return { ...process.env, NETNS_OWNER: String(process.pid), NETNS_NO_TRAP: '1' }
}

async function callNetns (fn: string, ...args: Array<string | number>): Promise<string> {
  try {
    const { stdout } = await execFileAsync('bash', bashArgs(fn, args), { env: bashEnv(), timeout: CALL_TIMEOUT_MS, maxBuffer: 1 << 20 })
    return stdout
  } catch (err: unknown) {
    const stderr = (err as { stderr?: string }).stderr?.trim() ?? ''
    throw new NetnsError('ERR_NETNS_COMMAND', `${fn} ${args.join(' ')} failed: ${stderr !== '' ? stderr : String(err)}`, { cause: err })
  }
}

function callNetnsSync (fn: string, ...args: Array<string | number>): void {
  execFileSync('bash', bashArgs(fn, args), { env: bashEnv(), timeout: CALL_TIMEOUT_MS, stdio: ['ignore', 'ignore', 'inherit'] })
}

let liveTestbed: NetnsTestbed | undefined

/**
 * N hosts as network namespaces on a private bridge, each with its own 10.213.x.y address and a
 * tc tbf cap on upload and download. One testbed per process (names carry the PID); it is torn
 * down by destroy(), and also on process exit, SIGINT and SIGTERM.
 */
export class NetnsTestbed {
  readonly hosts: number
  readonly rateMbit: number
  private readonly nsNames: string[]
  private readonly ips: string[]
  private readonly children = new Set<ChildProcess>()
  private destroyed = false
  private readonly onExit = (): void => { this.destroySync() }
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.destroySync()
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }

  private constructor (hosts: number, rateMbit: number, info: string) {
    this.hosts = hosts
    this.rateMbit = rateMbit
    this.nsNames = []
    this.ips = []
    for (const line of info.trim().split('\n')) {
      const [index, ns, ip] = line.split(' ')
      if (index === undefined || ns === undefined || ip === undefined) continue
      this.nsNames[Number(index)] = ns
      this.ips[Number(index)] = ip
    }
    if (this.nsNames.length !== hosts) {
      throw new NetnsError('ERR_NETNS_SETUP', `expected ${hosts} hosts, netns_info listed ${this.nsNames.length}`)
    }
  }

  /** Build the testbed; rejects with ERR_NETNS_UNAVAILABLE when not root on Linux. */
  static async create (init: NetnsTestbedInit): Promise<NetnsTestbed> {
    const reason = netnsUnavailableReason()
    if (reason !== undefined) throw new NetnsError('ERR_NETNS_UNAVAILABLE', `${reason}: run as root on Linux`)
    if (liveTestbed !== undefined) {
      throw new NetnsError('ERR_NETNS_BUSY', 'this process already has a testbed: destroy() it first')
    }
    const rateMbit = init.rateMbit ?? 20
    if (!Number.isInteger(init.hosts) || init.hosts < 1) throw new NetnsError('ERR_NETNS_ARGS', `hosts must be a positive integer, got ${init.hosts}`)
    if (!Number.isFinite(rateMbit) || rateMbit <= 0) throw new NetnsError('ERR_NETNS_ARGS', `rateMbit must be positive, got ${rateMbit}`)
    // Register teardown before anything exists so a crash half-way through still cleans up.
    const rate = `${Math.round(rateMbit * 1000)}kbit`
    process.once('exit', cleanupOnExit)
    process.once('SIGINT', cleanupOnSignal)
    process.once('SIGTERM', cleanupOnSignal)
    try {
      await callNetns('netns_up', init.hosts, rate)
      const bed = new NetnsTestbed(init.hosts, rateMbit, await callNetns('netns_info'))
      liveTestbed = bed
      detachEarlyCleanup()
      process.on('exit', bed.onExit)
      process.on('SIGINT', bed.onSignal)
      process.on('SIGTERM', bed.onSignal)
      if (init.names !== undefined) await bed.setNames(init.names)
      return bed
    } catch (err) {
      detachEarlyCleanup()
      await callNetns('netns_down').catch(() => {})
      throw err
    }
  }

  private check (i: number): void {
    if (this.destroyed) throw new NetnsError('ERR_NETNS_DESTROYED', 'the testbed was destroyed')
    if (!Number.isInteger(i) || i < 0 || i >= this.hosts) {
      throw new NetnsError('ERR_NETNS_ARGS', `host index ${i} is out of range 0..${this.hosts - 1}`)
    }
  }

  /** Address of host i. */
  ip (i: number): string {
    this.check(i)
    return this.ips[i] as string
  }

  /** Namespace name of host i (for `ip netns exec`). */
  ns (i: number): string {
    this.check(i)
    return this.nsNames[i] as string
  }

  /** Make names resolve (via /etc/hosts) inside every host, e.g. { seeder: 0, 'peer-1': 1 }; replaces earlier names, h<i> always resolve. */
  async setNames (names: Record<string, number>): Promise<void> {
    const pairs = Object.entries(names).map(([name, i]) => { this.check(i); return `${name}=${i}` })
    await callNetns('netns_hosts_file', ...pairs)
  }

  /** Start cmd inside host i (stdout/stderr piped unless options.stdio says otherwise: read them or the child blocks); killed on destroy(). */
  spawn (i: number, cmd: string, args: string[] = [], env?: NodeJS.ProcessEnv, options: SpawnOptions = {}): ChildProcess {
    const ns = this.ns(i)
    // `ip netns exec` execs cmd in place, so child.pid is the program's own pid.
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...options,
      env: env ?? options.env ?? process.env
    })
    this.children.add(child)
    child.once('exit', () => this.children.delete(child))
    return child
  }

  /** Bytes host i has sent on its interface. */
  async txBytes (i: number): Promise<number> {
    this.check(i)
    return Number((await callNetns('netns_tx_bytes', i)).trim())
  }

  /** Bytes host i has received on its interface. */
  async rxBytes (i: number): Promise<number> {
    this.check(i)
    return Number((await callNetns('netns_rx_bytes', i)).trim())
  }

  /** Unplug (false) or replug (true) host i's cable. */
  async setLink (i: number, up: boolean): Promise<void> {
    this.check(i)
    await callNetns('netns_link', i, up ? 'up' : 'down')
  }

  /** Kill the children and remove every namespace of this testbed. Idempotent. */
  async destroy (): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    this.detach()
    for (const child of this.children) child.kill('SIGTERM')
    await callNetns('netns_down')
  }

  private destroySync (): void {
    if (this.destroyed) return
    this.destroyed = true
    this.detach()
    for (const child of this.children) child.kill('SIGKILL')
    try { callNetnsSync('netns_down') } catch { /* exiting anyway; the next run removes stale leftovers */ }
  }

  private detach (): void {
    process.off('exit', this.onExit)
    process.off('SIGINT', this.onSignal)
    process.off('SIGTERM', this.onSignal)
    if (liveTestbed === this) liveTestbed = undefined
  }
}

function cleanupOnExit (): void {
  try { callNetnsSync('netns_down') } catch { /* best effort */ }
}

function cleanupOnSignal (signal: NodeJS.Signals): void {
  cleanupOnExit()
  process.exit(signal === 'SIGINT' ? 130 : 143)
}

function detachEarlyCleanup (): void {
  process.off('exit', cleanupOnExit)
  process.off('SIGINT', cleanupOnSignal)
  process.off('SIGTERM', cleanupOnSignal)
}
