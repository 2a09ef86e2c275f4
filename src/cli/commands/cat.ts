import { ExitCode } from '../exit-codes.js'
import type { CommandContext } from '../command-context.js'
import { daemonClient, initFromSettings } from '../node-from-settings.js'
import { Output } from '../output.js'
import { ProgressReporter } from '../progress-reporter.js'
import { parseCid } from '../../content/index.js'
import type { ShoalNode } from '../../node/shoal-node.js'
import type { ShoalEvents } from '../../node/types.js'

/**
 * `shoal cat <cid>[/<path>]`: writes the bytes of a one-file content, or of one file of a folder
 * content, to stdout, every chunk verified. Through the daemon when one is configured (it keeps the
 * content), else through a node started here. stdout carries the bytes and nothing else: progress
 * and notices go to stderr.
 */
export async function catCommand (ctx: CommandContext, [target]: string[]): Promise<number> {
  const slash = target!.indexOf('/')
  const cid = slash === -1 ? target! : target!.slice(0, slash)
  const path = slash === -1 ? undefined : target!.slice(slash + 1)
  // a mistyped CID fails at once, before any socket opens
  parseCid(cid)
  const remote = daemonClient(ctx)
  const node = remote === undefined ? await startQuietNode(ctx) : undefined
  const api = remote ?? node!
  const show = !ctx.output.json && !ctx.output.quiet
  const reporter = new ProgressReporter(new Output({ quiet: ctx.output.quiet }), process.stderr)
  const onProgress = ({ detail }: ShoalEvents['progress']): void => { if (detail.cid === cid) reporter.update(detail) }
  if (show) node?.addEventListener('progress', onProgress)
  try {
    const read = await api.read(cid, { path, signal: ctx.signal })
    for await (const part of read.stream) {
      if (!process.stdout.write(part)) await drained(process.stdout, ctx.signal)
    }
    return ExitCode.OK
  } finally {
    node?.removeEventListener('progress', onProgress)
    reporter.finish()
    await node?.stop()
  }
}

/** A started node whose notices go to stderr (startNode's go to stdout, which carries the bytes here). */
async function startQuietNode (ctx: CommandContext): Promise<ShoalNode> {
  // loaded only here: `cat` through a daemon needs no libp2p (see node-from-settings.ts)
  const { ShoalNode } = await import('../../node/shoal-node.js')
  const node = new ShoalNode(initFromSettings(ctx.settings))
  if (!ctx.output.quiet) {
    node.addEventListener('stalled', ({ detail }) => { process.stderr.write(`stalled: no reachable peer holds ${detail.missing} missing chunk(s); still looking...\n`) })
  }
  await node.start({ signal: ctx.signal })
  return node
}

/** Resolves once `out` can take more bytes; rejects when `signal` aborts first (Ctrl-C). */
async function drained (out: NodeJS.WriteStream, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      out.off('drain', done)
      signal.removeEventListener('abort', stop)
      resolve()
    }
    const stop = (): void => {
      out.off('drain', done)
      reject(signal.reason)
    }
    out.on('drain', done)
    signal.addEventListener('abort', stop, { once: true })
  })
}
