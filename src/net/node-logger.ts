import { logger } from '@libp2p/logger'
import type { ComponentLogger, Logger } from '@libp2p/interface'

/**
 * A ComponentLogger whose every line starts with `[tag]`, so several nodes in one process (`shoal
 * demo`, the tests) can be told apart. The tag goes in the message, not the namespace: every
 * `DEBUG=shoal:...` or `DEBUG=libp2p:...` filter keeps matching, which a `prefixLogger` namespace
 * (`<tag>:shoal:node`) would break.
 */
export function nodeLogger (tag: string | (() => string)): ComponentLogger {
  const current = typeof tag === 'string' ? () => tag : tag
  return { forComponent: name => tagged(logger(name), current) }
}

// `tag` is read per line: a node learns its PeerId (the default tag) only when it starts.
function tagged (base: Logger, tag: () => string): Logger {
  const prefix = (formatter: unknown): [unknown, ...unknown[]] => {
    const t = tag()
    if (t === '') return [formatter]
    if (typeof formatter === 'string') return [`[${t}] ${formatter}`]
    return [formatter instanceof Error ? `[${t}] %e` : `[${t}] %O`, formatter]
  }
  // libp2p logs on every stream, RPC and dial: with the namespace off, a line must cost no prefix
  // string (it cost ~0.5 % of a swarm receiver's CPU, plus its garbage)
  const log = (formatter: unknown, ...args: unknown[]): void => { if (base.enabled) base(...prefix(formatter), ...args) }
  log.error = (formatter: unknown, ...args: unknown[]): void => { if (isOn(base.error)) base.error(...prefix(formatter), ...args) }
  log.trace = (formatter: unknown, ...args: unknown[]): void => { if (isOn(base.trace)) base.trace(...prefix(formatter), ...args) }
  log.newScope = (name: string): Logger => tagged(base.newScope(name), tag)
  // a getter: `enable()` at run time switches the underlying logger on or off
  Object.defineProperty(log, 'enabled', { get: () => base.enabled, enumerable: true })
  return log as unknown as Logger
}

/** False only for a debug instance that says it is off (the error and trace loggers are such instances). */
function isOn (log: unknown): boolean {
  return (log as { enabled?: boolean }).enabled !== false
}
