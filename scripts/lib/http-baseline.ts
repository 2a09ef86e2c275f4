import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { NetnsTestbed } from './netns-hosts.js'
import { stopChild } from './stop-child.js'

const SERVER_SCRIPT = fileURLToPath(new URL('./http-file-server.js', import.meta.url))
const CLIENT_SCRIPT = fileURLToPath(new URL('./http-fetch-client.js', import.meta.url))
const DEFAULT_PORT = 8080
const DEFAULT_TIMEOUT_MS = 300_000
const SERVER_START_TIMEOUT_MS = 15_000
/** Linux reports /proc/<pid>/stat times in clock ticks of 1/100 s (CLK_TCK) on every common build. */
const CLOCK_TICKS_PER_SECOND = 100

/** A running http-file-server inside one host. */
export interface HttpFileServer {
  child: ChildProcess
  url: string
  /** CPU time (user + system) the server has used so far, in ms. */
  cpuMs(): Promise<number>
  stop(): Promise<void>
}

/** One client's download. */
export interface HttpDownload {
  host: number
  bytes: number
  /** from the client's request to the file being written and verified */
  ms: number
  /** from the start of the run (all clients spawned together) to this client's exit */
  finishedAtMs: number
  /** CPU the client process used, ms */
  cpuMs: number
}

/** Options of runHttpBaseline. */
export interface HttpBaselineOptions {
  seeder: number
  clients: number[]
  file: string
  /** expected sha256 (hex); computed from the file when absent */
  sha256?: string
  port?: number
  /** bound on the whole run */
  timeoutMs?: number
}

/** What the client-server baseline measured. */
export interface HttpBaselineResult {
  clients: HttpDownload[]
  /** bytes the seeder's interface sent during the run */
  serverTxBytes: number
  /** CPU the server process used while the clients ran, ms */
  serverCpuMs: number
  /** from spawning the clients to the last one finishing */
  wallMs: number
}

/** CPU time (user + system) of a live process in ms, read from /proc/<pid>/stat. */
export async function processCpuMs (pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // The command name may contain spaces; fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return ticks * 1000 / CLOCK_TICKS_PER_SECOND
}

/** sha256 of a file, hex. */
export async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

function readJsonLine (child: ChildProcess, timeoutMs: number, what: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(() => finish(new Error(`${what}: no output within ${timeoutMs} ms`)), timeoutMs)
    const finish = (error?: Error, value?: Record<string, unknown>): void => {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.off('exit', onExit)
      if (error !== undefined) reject(error)
      else resolve(value ?? {})
    }
    const onData = (chunk: Buffer): void => {
      out += chunk.toString()
      const nl = out.indexOf('\n')
      if (nl < 0) return
      try {
        finish(undefined, JSON.parse(out.slice(0, nl)) as Record<string, unknown>)
      } catch {
        finish(new Error(`${what}: bad output ${out.slice(0, nl)}`))
      }
    }
    const onExit = (code: number | null): void => {
      finish(new Error(`${what}: exited with ${code} before reporting${err !== '' ? `: ${err.trim()}` : ''}`))
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => { err += chunk.toString() })
    child.once('exit', onExit)
  })
}

/** Start the file server inside host `host`, listening on all its addresses. */
export async function startHttpFileServer (bed: NetnsTestbed, host: number, file: string, port = DEFAULT_PORT): Promise<HttpFileServer> {
  const child = bed.spawn(host, process.execPath, [SERVER_SCRIPT, '--file', file, '--port', String(port)])
  try {
    await readJsonLine(child, SERVER_START_TIMEOUT_MS, `http server on h${host}`)
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
  const pid = child.pid as number
  return {
    child,
    url: `http://${bed.ip(host)}:${port}/file`,
    cpuMs: async () => processCpuMs(pid),
    stop: async () => { await stopChild(child) }
  }
}

/**
 * Download url inside host `host` into out, verify sha256, and resolve with bytes and ms as the
 * client measured them plus the client's CPU time. Rejects on error, mismatch or timeout.
 */
export async function runHttpClient (bed: NetnsTestbed, host: number, url: string, out: string, sha256: string | undefined, timeoutMs: number): Promise<{ bytes: number, ms: number, cpuMs: number }> {
  const args = [CLIENT_SCRIPT, '--url', url, '--out', out, '--timeout-ms', String(timeoutMs)]
  if (sha256 !== undefined) args.push('--sha256', sha256)
  const child = bed.spawn(host, process.execPath, args)
  const pid = child.pid as number
  let cpuMs = 0
  // Sample CPU while the client runs: once it has exited, /proc/<pid> is gone.
  const sampler = setInterval(() => { processCpuMs(pid).then(v => { cpuMs = v }, () => {}) }, 100)
  try {
    const line = await readJsonLine(child, timeoutMs + 5_000, `http client on h${host}`)
    cpuMs = await processCpuMs(pid).catch(() => cpuMs)
    if (typeof line.error === 'string') throw new Error(`http client on h${host}: ${line.error}`)
    return { bytes: Number(line.bytes), ms: Number(line.ms), cpuMs }
  } finally {
    clearInterval(sampler)
    if (child.exitCode === null) child.kill('SIGKILL')
  }
}

/**
 * The client-server baseline: one node:http server in the seeder's namespace, every client
 * downloading the file concurrently from its own namespace. Files are verified and removed.
 */
export async function runHttpBaseline (bed: NetnsTestbed, options: HttpBaselineOptions): Promise<HttpBaselineResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const sha256 = options.sha256 ?? await sha256File(options.file)
  const dir = await mkdtemp(join(tmpdir(), 'shoal-http-baseline-'))
  const server = await startHttpFileServer(bed, options.seeder, options.file, options.port ?? DEFAULT_PORT)
  try {
    const tx0 = await bed.txBytes(options.seeder)
    // Only the serving counts, not Node's own start-up.
    const cpu0 = await server.cpuMs()
    const start = performance.now()
    const clients = await Promise.all(options.clients.map(async host => {
      const r = await runHttpClient(bed, host, server.url, join(dir, `h${host}.bin`), sha256, timeoutMs)
      return { host, ...r, finishedAtMs: performance.now() - start }
    }))
    const wallMs = performance.now() - start
    const serverCpuMs = await server.cpuMs() - cpu0
    const serverTxBytes = await bed.txBytes(options.seeder) - tx0
    return { clients, serverTxBytes, serverCpuMs, wallMs }
  } finally {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
