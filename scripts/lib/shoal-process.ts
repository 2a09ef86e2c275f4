import { readFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { NetnsTestbed } from './netns-hosts.js'

/** The `shoal` bin (dist/src/cli/bundle/main.js, made by `npm run build`), seen from dist/scripts/lib/. */
export const SHOAL_CLI = fileURLToPath(new URL('../../src/cli/bundle/main.js', import.meta.url))

/** The node flags of the CLI's shebang (`#!/usr/bin/env -S node <flags>`), so benchmarks run it as the bin runs. */
export const SHOAL_NODE_FLAGS: string[] = (() => {
  const first = readFileSync(SHOAL_CLI, 'utf8').split('\n', 1)[0] ?? ''
  const m = /^#!\/usr\/bin\/env -S node (.*)$/.exec(first)
  return m === null ? [] : m[1]!.trim().split(/\s+/)
})()

/** One JSON line a `shoal --json` command printed. */
export type ShoalEvent = Record<string, unknown> & { type: string }

/**
 * A running `shoal` process with its stdout parsed as JSON lines. Every event is timestamped with
 * this process's performance.now() when it arrived, so times are measured by one clock.
 */
export class ShoalProcess {
  readonly child: ChildProcess
  readonly name: string
  readonly events: Array<{ at: number, event: ShoalEvent }> = []
  readonly exited: Promise<number | null>
  #stderr = ''
  #stderrLine: ((line: string) => void) | undefined
  #waiters: Array<{ type: string, resolve: (e: { at: number, event: ShoalEvent }) => void, reject: (err: Error) => void }> = []
  #peakRssKiB = 0
  #sampler?: NodeJS.Timeout

  constructor (child: ChildProcess, name: string) {
    this.child = child
    this.name = name
    let buffered = ''
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', (text: string) => {
      buffered += text
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim()
        buffered = buffered.slice(nl + 1)
        if (line !== '') this.#line(line)
      }
    })
    child.stderr?.setEncoding('utf8')
    let partial = ''
    child.stderr?.on('data', (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-4000)
      if (this.#stderrLine === undefined) return
      const lines = (partial + text).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) this.#stderrLine(line)
    })
    this.exited = new Promise(resolve => {
      child.once('exit', code => {
        this.stopRssSampling()
        const err = new Error(`${name} exited with ${code ?? child.signalCode}${this.#stderr.trim() !== '' ? `: ${this.#stderr.trim()}` : ''}`)
        for (const w of this.#waiters) w.reject(err)
        this.#waiters = []
        resolve(code)
      })
    })
  }

  /** Hands every whole stderr line from now on to fn (e.g. DEBUG traces); one listener. */
  onStderrLine (fn: (line: string) => void): void {
    this.#stderrLine = fn
  }

  /** Start `shoal <args>` inside testbed host i. */
  static inHost (bed: NetnsTestbed, i: number, name: string, args: string[], env: NodeJS.ProcessEnv = {}): ShoalProcess {
    return new ShoalProcess(bed.spawn(i, process.execPath, [...SHOAL_NODE_FLAGS, SHOAL_CLI, ...args], { ...process.env, ...env }), name)
  }

  /** Start `shoal <args>` on this host. */
  static local (name: string, args: string[], env: NodeJS.ProcessEnv = {}): ShoalProcess {
    const child = spawn(process.execPath, [...SHOAL_NODE_FLAGS, SHOAL_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
    return new ShoalProcess(child, name)
  }

  #line (line: string): void {
    let event: ShoalEvent
    try {
      event = JSON.parse(line) as ShoalEvent
    } catch {
      return
    }
    const entry = { at: performance.now(), event }
    this.events.push(entry)
    if (event.type === 'error') {
      const err = new Error(`${this.name}: ${String(event.code)} ${String(event.message)}`)
      for (const w of this.#waiters) w.reject(err)
      this.#waiters = []
      return
    }
    this.#waiters = this.#waiters.filter(w => {
      if (w.type !== event.type) return true
      w.resolve(entry)
      return false
    })
  }

  /** The first event of this type (already seen or still to come); rejects on exit, error or timeout. */
  async waitFor (type: string, timeoutMs: number): Promise<{ at: number, event: ShoalEvent }> {
    const seen = this.events.find(e => e.event.type === type)
    if (seen !== undefined) return seen
    if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`${this.name} has exited (${this.#stderr.trim()})`)
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter(w => w.resolve !== done)
        reject(new Error(`${this.name}: no "${type}" event within ${timeoutMs} ms${this.#stderr.trim() !== '' ? `; stderr: ${this.#stderr.trim()}` : ''}`))
      }, timeoutMs)
      const done = (e: { at: number, event: ShoalEvent }): void => { clearTimeout(timer); resolve(e) }
      this.#waiters.push({ type, resolve: done, reject: err => { clearTimeout(timer); reject(err) } })
    })
  }

  /** Poll VmHWM (peak resident set) from /proc every intervalMs until the process exits. */
  startRssSampling (intervalMs = 100): void {
    const pid = this.child.pid
    if (pid === undefined) return
    const sample = (): void => {
      readFile(`/proc/${pid}/status`, 'utf8').then(text => {
        const m = /VmHWM:\s+(\d+)\s+kB/.exec(text)
        if (m !== null) this.#peakRssKiB = Math.max(this.#peakRssKiB, Number(m[1]))
      }, () => {})
    }
    sample()
    this.#sampler = setInterval(sample, intervalMs)
  }

  stopRssSampling (): void {
    if (this.#sampler !== undefined) clearInterval(this.#sampler)
    this.#sampler = undefined
  }

  /** Highest VmHWM seen, in bytes. */
  get peakRssBytes (): number {
    return this.#peakRssKiB * 1024
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  async stop (graceMs = 5_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs)
    await this.exited
    clearTimeout(timer)
  }
}

/** Write `bytes` of pseudo-random data to path, 1 MiB at a time. */
export async function writeRandomFile (path: string, bytes: number): Promise<void> {
  const { open } = await import('node:fs/promises')
  const { randomFillSync } = await import('node:crypto')
  const fh = await open(path, 'w')
  try {
    const block = Buffer.alloc(1 << 20)
    for (let at = 0; at < bytes; at += block.length) {
      randomFillSync(block)
      await fh.write(block, 0, Math.min(block.length, bytes - at))
    }
  } finally {
    await fh.close()
  }
}
