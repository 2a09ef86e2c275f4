import { resolve } from 'node:path'
import { ExitCode } from '../exit-codes.js'
import type { CommandContext } from '../command-context.js'
import { daemonClient, startNode, waitFor } from '../node-from-settings.js'
import { ProgressReporter } from '../progress-reporter.js'
import { formatBytes, formatDuration, formatSources } from '../format.js'
import type { ShoalApi } from '../../node/shoal-api.js'
import { parseCid } from '../../content/index.js'

/** `shoal get <cid>`: fetch and verify, with progress; then seed for --seed-time. */
export async function getCommand (ctx: CommandContext, [cid]: string[], opts: Record<string, unknown>): Promise<number> {
  // a mistyped CID fails at once, before any socket opens
  parseCid(cid!)
  const out = resolve(String(opts.out ?? '.'))
  const remote = daemonClient(ctx)
  const node = remote === undefined ? await startNode(ctx) : undefined
  const api: ShoalApi = remote ?? node!
  const reporter = new ProgressReporter(ctx.output)
  try {
    const result = await api.get(cid!, { out, overwrite: opts.overwrite === true, signal: ctx.signal, onProgress: p => { reporter.update(p) } })
    reporter.finish()
    const rate = result.elapsedMs > 0 ? result.size / (result.elapsedMs / 1000) : 0
    const sources = formatSources(result.received)
    ctx.output.result({ ...result }, ctx.output.quiet
      ? result.path
      : `done: ${result.path} (${formatBytes(result.size)} in ${formatDuration(result.elapsedMs)}, ${formatBytes(rate)}/s), every chunk verified${sources === '' ? '' : `; ${sources}`}`)
    const seedTime = ctx.settings.seedTime
    if (node !== undefined && seedTime > 0 && !ctx.signal.aborted) {
      ctx.output.info(`seeding for ${formatDuration(seedTime)} (Ctrl-C to stop)`)
      await waitFor(seedTime, ctx.signal)
    }
    return ExitCode.OK
  } finally {
    reporter.finish()
    await node?.stop()
  }
}
