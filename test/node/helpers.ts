import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ShoalNode } from '../../src/node/shoal-node.js'
import { freePort } from '../net/helpers.js'
import type { ShoalInit } from '../../src/node/types.js'

/** 64 KiB chunks, so a few MiB make many chunks. */
export const CHUNK = 65536

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures')
const RUNNER = join(FIXTURES, 'node-runner.js')
/** A network announcing every chunk of a content on gossip and serving nothing (test/node/fixtures/liar-runner.ts). */
export const LIAR_RUNNER = join(FIXTURES, 'liar-runner.js')

/** One JSON line written by the node-runner fixture. */
export interface RunnerMessage {
  type: string
  [key: string]: unknown
}

/** What a child process runs: the node-runner fixture by default, with extra environment (e.g. test hooks). */
export interface NodeProcessOptions {
  script?: string
  env?: NodeJS.ProcessEnv
}

/** A ShoalNode in a child process (test/node/fixtures/node-runner.ts, or another fixture), killable for real. */
export class NodeProcess {
  readonly child: ChildProcessWithoutNullStreams
  readonly messages: RunnerMessage[] = []
  readonly #waiters = new Set<() => void>()
  stderr = ''
  exited = false

  constructor (config: { init: ShoalInit, add?: string, get?: { cid: string, out: string } } | Record<string, unknown>, options: NodeProcessOptions = {}) {
    this.child = spawn(process.execPath, [options.script ?? RUNNER, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } })
    let buffered = ''
    this.child.stdout.setEncoding('utf8').on('data', (text: string) => {
      buffered += text
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        if (line.trim() === '') continue
        this.messages.push(JSON.parse(line) as RunnerMessage)
        for (const wake of this.#waiters) wake()
      }
    })
    this.child.stderr.setEncoding('utf8').on('data', (text: string) => { this.stderr += text })
    this.child.on('exit', () => {
      this.exited = true
      for (const wake of this.#waiters) wake()
    })
  }

  /** The first message matching `test`, waiting at most `timeoutMs`. */
  async waitFor (what: string, test: (m: RunnerMessage) => boolean, timeoutMs = 20_000): Promise<RunnerMessage> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.messages.find(test)
      if (found !== undefined) return found
      const failed = this.messages.find(m => m.type === 'error')
      if (failed !== undefined) throw new Error(`node process failed while waiting for ${what}: ${JSON.stringify(failed)}`)
      if (this.exited) throw new Error(`node process exited while waiting for ${what}; stderr: ${this.stderr}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(done, left)
        function done (): void { clearTimeout(timer); waiters.delete(done); resolve() }
        const waiters = this.#waiters
        waiters.add(done)
      })
    }
  }

  /** SIGKILL, and wait for the process to be gone. */
  async kill (): Promise<void> {
    if (this.exited) return
    const gone = new Promise(resolve => this.child.once('exit', resolve))
    this.child.kill('SIGKILL')
    await gone
  }

  /** Clean stop (stdin closed); SIGKILL if it does not exit within `timeoutMs`. */
  async stop (timeoutMs = 5000): Promise<void> {
    if (this.exited) return
    const gone = new Promise(resolve => this.child.once('exit', resolve))
    this.child.stdin.end()
    const timer = setTimeout(() => { this.child.kill('SIGKILL') }, timeoutMs)
    await gone
    clearTimeout(timer)
  }
}

/** Tracks temp dirs, nodes and processes so `cleanup()` in after() removes all of them. */
export class Harness {
  readonly dirs: string[] = []
  readonly nodes: ShoalNode[] = []
  readonly procs: NodeProcess[] = []
  bootstrap?: ShoalNode

  async tempDir (): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-node-'))
    this.dirs.push(dir)
    return dir
  }

  /** Starts the scenario's bootstrap node: a ShoalNode with no content. */
  async startBootstrap (): Promise<ShoalNode> {
    this.bootstrap = await this.node()
    return this.bootstrap
  }

  /** Node options on loopback, with a fresh data dir and the bootstrap node (if started). */
  async init (overrides: Partial<ShoalInit> = {}): Promise<ShoalInit> {
    return {
      dataDir: await this.tempDir(),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: this.bootstrap?.multiaddrs ?? [],
      chunkSize: CHUNK,
      ...overrides
    }
  }

  /** A started ShoalNode. */
  async node (overrides: Partial<ShoalInit> = {}): Promise<ShoalNode> {
    const node = new ShoalNode(await this.init(overrides))
    this.nodes.push(node)
    await node.start()
    return node
  }

  /** A node-runner (or `options.script`) child process (not waited for). */
  process (config: { init: ShoalInit, add?: string, get?: { cid: string, out: string } } | Record<string, unknown>, options: NodeProcessOptions = {}): NodeProcess {
    const proc = new NodeProcess(config, options)
    this.procs.push(proc)
    return proc
  }

  async cleanup (): Promise<void> {
    await Promise.all(this.procs.map(async p => { await p.kill() }))
    await Promise.all(this.nodes.map(async n => { await n.stop().catch(() => {}) }))
    await Promise.all(this.dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
  }
}

/** A file of `size` random bytes. */
export async function randomFile (path: string, size: number): Promise<void> {
  await writeFile(path, randomBytes(size))
}

/** sha256 of a file, hex. */
export async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer)
  return hash.digest('hex')
}

/**
 * A tree's content as `relative path -> sha256` (files) or `'dir'` (directories), so two trees
 * compare with one deepEqual, empty directories and zero-byte files included.
 */
export async function treeDigest (root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const abs = join(dir, entry.name)
      const rel = relative(root, abs)
      if (entry.isDirectory()) {
        out[rel] = 'dir'
        await walk(abs)
      } else {
        out[rel] = `${(await stat(abs)).size}:${await sha256File(abs)}`
      }
    }
  }
  await walk(root)
  return out
}

/** Polls `check` every 50 ms until it returns true; fails after `timeoutMs` naming `what`. */
export async function waitUntil (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** Rejects with a clear message when `promise` takes longer than `ms`. */
export async function within<T> (what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`${what} did not finish within ${ms} ms`)) }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** A loopback TCP multiaddr where nothing listens (a port that was free a moment ago). */
export async function freePortAddress (): Promise<string> {
  const port = await freePort()
  return `/ip4/127.0.0.1/tcp/${port}`
}
