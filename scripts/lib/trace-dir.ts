import { createWriteStream, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { ShoalProcess } from './shoal-process.js'

/**
 * SHOAL_BENCH_TRACE_DIR=<dir>: every node of a cold or warm swarm run also logs each seeder-policy decision
 * (`shoal:node:admit`) and each request, delivery and refusal of its download (`shoal:swarm:trace`),
 * and its whole stderr is kept as <dir>/<run>-<node>.log, so a run's duplicates can be explained.
 */
export const TRACE_DIR_ENV = 'SHOAL_BENCH_TRACE_DIR'
const TRACE_DEBUG = 'shoal:node:admit,shoal:swarm:trace,shoal:net:xfer'

/** The trace directory, when asked for; created if missing (a path that cannot be one throws, naming it). */
export function traceDir (): string | undefined {
  const dir = process.env[TRACE_DIR_ENV]
  if (dir === undefined || dir === '') return undefined
  try {
    mkdirSync(dir, { recursive: true })
  } catch (err) {
    throw new Error(`${TRACE_DIR_ENV}=${dir}: cannot create the trace directory: ${(err as Error).message}`)
  }
  return dir
}

/** `env` with `namespaces` added to its DEBUG list. */
export function withDebug (env: NodeJS.ProcessEnv, namespaces: string): NodeJS.ProcessEnv {
  return { ...env, DEBUG: env.DEBUG === undefined || env.DEBUG === '' ? namespaces : `${env.DEBUG},${namespaces}` }
}

/** `env` with the trace namespaces added to its DEBUG when a trace directory is set. */
export function withTraceDebug (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return traceDir() === undefined ? env : withDebug(env, TRACE_DEBUG)
}

/** Copies p's stderr (and its `node` line's peer id first) to <dir>/<run>-<name>.log when a trace directory is set. */
export function keepTrace (p: ShoalProcess, run: string, name: string): void {
  const dir = traceDir()
  if (dir === undefined) return
  const log = createWriteStream(join(dir, `${run}-${name.replace(/\s+/g, '')}.log`))
  p.waitFor('node', 60_000).then(e => { log.write(`# peer ${String(e.event.peerId)}\n`) }, () => {})
  p.child.stderr?.on('data', (text: string) => { log.write(text) })
  p.child.once('exit', () => { log.end() })
}
