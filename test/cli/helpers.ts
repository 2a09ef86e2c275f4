import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The `shoal` bin: the bundled CLI (dist/src/cli/bundle/main.js, made by `npm run build`). */
export const SHOAL_MAIN = fileURLToPath(new URL('../../src/cli/bundle/main.js', import.meta.url))

export interface JsonLine { type: string, [key: string]: unknown }

/** A running `shoal` child with its output collected. */
export interface ShoalProcess {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Every stdout line parsed as JSON (throws on a line that is not JSON). */
  json: () => JsonLine[]
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** Resolves with the first JSON line matching `pred`; rejects after `timeoutMs` or on exit. */
  waitForLine: (pred: (line: JsonLine) => boolean, timeoutMs?: number) => Promise<JsonLine>
}

const children = new Set<ChildProcess>()

/** Environment without any SHOAL_* variable of the test runner, plus `extra`. */
export function cleanEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SHOAL_')) env[k] = v
  return { ...env, ...extra }
}

/** Starts `node dist/src/cli/bundle/main.js ...args`. */
export function spawnShoal (args: string[], options: { env?: Record<string, string>, cwd?: string, uid?: number, gid?: number } = {}): ShoalProcess {
  const spawnOptions: SpawnOptions = { env: cleanEnv(options.env), cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] }
  if (options.uid !== undefined) spawnOptions.uid = options.uid
  if (options.gid !== undefined) spawnOptions.gid = options.gid
  const child = spawn(process.execPath, [SHOAL_MAIN, ...args], spawnOptions)
  children.add(child)
  let out = ''
  let err = ''
  const waiters = new Set<() => void>()
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; for (const w of waiters) w() })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    child.once('exit', (code, signal) => { resolve({ code, signal }) })
  })
  // 'exit' can fire before stdout is drained; wait for 'close' so output is complete
  const closed = new Promise<void>(resolve => { child.once('close', () => { children.delete(child); resolve() }) })
  const json = (): JsonLine[] => out.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as JsonLine)
  const completeLines = (): JsonLine[] => out.slice(0, out.lastIndexOf('\n') + 1).split('\n').filter(l => l !== '').map(l => JSON.parse(l) as JsonLine)
  const waitForLine = async (pred: (line: JsonLine) => boolean, timeoutMs = 30_000): Promise<JsonLine> => {
    return await new Promise<JsonLine>((resolve, reject) => {
      const check = (): void => {
        const hit = completeLines().find(pred)
        if (hit !== undefined) { done(); resolve(hit) }
      }
      const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for a line; stdout: ${out}\nstderr: ${err}`)) }, timeoutMs)
      const onExit = (): void => {
        check()
        done()
        reject(new Error(`shoal ${args.join(' ')} exited first; stdout: ${out}\nstderr: ${err}`))
      }
      const done = (): void => { clearTimeout(timer); waiters.delete(check); child.off('close', onExit) }
      waiters.add(check)
      child.once('close', onExit)
      check()
    })
  }
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    json,
    exited: exited.then(async r => { await closed; return r }),
    waitForLine
  }
}

/** Runs `shoal ...args` to completion (killed after `timeoutMs`). */
export async function runShoal (args: string[], options: { env?: Record<string, string>, cwd?: string, uid?: number, gid?: number, timeoutMs?: number } = {}): Promise<{ code: number | null, stdout: string, stderr: string, json: () => JsonLine[] }> {
  const p = spawnShoal(args, options)
  const timer = setTimeout(() => { p.child.kill('SIGKILL') }, options.timeoutMs ?? 60_000)
  const { code } = await p.exited
  clearTimeout(timer)
  return { code, stdout: p.stdout(), stderr: p.stderr(), json: p.json }
}

/** Kills every child still running (for `after`). */
export async function killAllShoals (): Promise<void> {
  await Promise.all([...children].map(async child => {
    const gone = new Promise<void>(resolve => { child.once('close', () => { resolve() }) })
    child.kill('SIGKILL')
    await gone
  }))
}

/** Runs any program to completion with the clean environment (killed after `timeoutMs`). */
export async function runProgram (file: string, args: string[], timeoutMs = 60_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(file, args, { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
  const code = await new Promise<number | null>(resolve => { child.once('close', code => { children.delete(child); resolve(code) }) })
  clearTimeout(timer)
  return { code, stdout, stderr }
}
