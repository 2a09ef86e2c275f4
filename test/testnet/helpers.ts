import { spawn, spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { aptInstall } from '../../scripts/lib/debian-packages.js'

/** The repository root (this file runs from dist/test/testnet/). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs a command to completion (killed after timeoutMs), collecting its output. */
export async function run (cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv, timeoutMs: number, cwd?: string }): Promise<RunResult> {
  const child = spawn(cmd, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  // TERM first so the testnet scripts run their teardown traps; KILL if they ignore it
  const term = setTimeout(() => { child.kill('SIGTERM') }, options.timeoutMs)
  const kill = setTimeout(() => { child.kill('SIGKILL') }, options.timeoutMs + 20_000)
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (c, s) => { resolve([c, s]) })
    })
    return { code, signal, stdout, stderr }
  } finally {
    clearTimeout(term)
    clearTimeout(kill)
  }
}

function has (cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 })
  return r.status === 0
}

/**
 * Makes sure `cmd` runs (probed with `probeArgs`), installing Debian's `aptPackage` when it is
 * missing and we are root. Returns undefined when it is there, else the reason it cannot be had.
 */
export function ensureTool (cmd: string, probeArgs: string[], aptPackage: string): string | undefined {
  if (has(cmd, probeArgs)) return undefined
  const failed = aptInstall([aptPackage])
  if (failed !== undefined) return `${cmd} is not installed and installing ${aptPackage} failed: ${failed}`
  return has(cmd, probeArgs) ? undefined : `${cmd} still does not run after installing ${aptPackage}`
}
