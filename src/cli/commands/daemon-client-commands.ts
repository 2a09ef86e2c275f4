import { ExitCode } from '../exit-codes.js'
import type { CommandContext } from '../command-context.js'
import { daemonClient } from '../node-from-settings.js'
import { initFromSettings } from '../node-from-settings.js'
import type { ShoalApi } from '../../node/shoal-api.js'
import { formatBytes, formatDuration, formatSources } from '../format.js'
import { seedCommand } from './seed.js'
import { ControlClient } from '../../api/control-client.js'
import { ShoalError } from '../../util/shoal-error.js'

/**
 * add/ls/status/cancel talk to a daemon when one is configured; otherwise they act on this
 * machine's data dir directly (ls/status/cancel need no network; add becomes `seed`).
 */
async function withApi<T> (ctx: CommandContext, fn: (api: ShoalApi) => Promise<T>): Promise<T> {
  const remote = daemonClient(ctx)
  if (remote !== undefined) return await fn(remote)
  // a client of a daemon never loads libp2p
  const { ShoalNode } = await import('../../node/shoal-node.js')
  const node = new ShoalNode(initFromSettings(ctx.settings))
  await node.open()
  try {
    return await fn(node)
  } finally {
    await node.stop()
  }
}

/** `shoal add <path>` */
export async function addCommand (ctx: CommandContext, args: string[], opts: Record<string, unknown>): Promise<number> {
  const remote = daemonClient(ctx)
  if (remote === undefined) return await seedCommand(ctx, args, opts)
  const added = await remote.add(args[0]!, { signal: ctx.signal, chunkSize: ctx.settings.chunkSize })
  ctx.output.result({ ...added }, ctx.output.quiet ? added.cid : `${added.cid}\nthe daemon now seeds ${added.path}`)
  return ExitCode.OK
}

/** `shoal ls` */
export async function lsCommand (ctx: CommandContext): Promise<number> {
  const contents = await withApi(ctx, async api => await api.ls())
  const now = Date.now()
  const lines = contents.map(c => {
    const percent = c.chunks === 0 ? 100 : (100 * c.have) / c.chunks
    const sources = formatSources(c.received)
    const used = c.lastUsedAt === undefined ? '-' : `${formatDuration(Math.max(0, now - c.lastUsedAt))} ago`
    const kind = c.pinned === true ? 'pinned' : c.managed === true ? 'cache' : 'kept'
    return `${c.cid}  ${c.state.padEnd(11)} ${percent.toFixed(1).padStart(5)}%  ${formatBytes(c.size).padStart(10)}  ${c.peers} peers  ${used.padStart(10)}  ${kind.padEnd(6)}  ${c.path}${sources === '' ? '' : `  (${sources})`}`
  })
  ctx.output.result({ contents }, lines.length === 0 ? 'no content' : lines.join('\n'))
  return ExitCode.OK
}

/** `shoal status` */
export async function statusCommand (ctx: CommandContext): Promise<number> {
  const status = await withApi(ctx, async api => await api.status())
  ctx.output.result({ ...status }, [
    `peer id:   ${status.peerId}`,
    `addresses: ${status.multiaddrs.length === 0 ? '(not listening: no daemon configured)' : status.multiaddrs.join('\n           ')}`,
    `peers:     ${status.peers}`,
    `contents:  ${status.contents}`,
    `uploaded:  ${formatBytes(status.uploadedBytes)} (${formatBytes(status.uploadRateBps)}/s)`,
    `downloaded: ${formatBytes(status.downloadedBytes)} (${formatBytes(status.downloadRateBps)}/s)`,
    ...(formatSources(status.received) === '' ? [] : [`received:  ${formatSources(status.received)}`])
  ].join('\n'))
  return ExitCode.OK
}

/** `shoal cancel <cid>` */
export async function cancelCommand (ctx: CommandContext, [cid]: string[]): Promise<number> {
  await withApi(ctx, async api => { await api.remove(cid!) })
  ctx.output.result({ cid, removed: true }, `removed ${cid} (files on disk are kept)`)
  return ExitCode.OK
}

/** `shoal pin <cid>` / `shoal unpin <cid>` */
export async function pinCommand (ctx: CommandContext, [cid]: string[], pinned: boolean): Promise<number> {
  await withApi(ctx, async api => { await (pinned ? api.pin(cid!) : api.unpin(cid!)) })
  ctx.output.result({ cid, pinned }, pinned ? `pinned ${cid}: the cache never evicts it` : `unpinned ${cid}`)
  return ExitCode.OK
}

/** `shoal gc [--dry-run]` */
export async function gcCommand (ctx: CommandContext, opts: Record<string, unknown>): Promise<number> {
  const dryRun = opts.dryRun === true
  const report = await withApi(ctx, async api => await api.gc({ dryRun, signal: ctx.signal }))
  const verb = dryRun ? 'would evict' : 'evicted'
  const lines = report.evicted.map(e => `${verb} ${e.cid}  ${formatBytes(e.bytes).padStart(10)}  ${e.reason.padEnd(9)}  ${e.path}`)
  lines.push(`${verb} ${report.evicted.length} content(s), ${formatBytes(report.freedBytes)} (${report.freedBytes} bytes) of ${formatBytes(report.heldBytes)} held`)
  ctx.output.result({ ...report }, lines.join('\n'))
  return ExitCode.OK
}

/** `shoal dashboard`: prints a one-time link that signs a browser in to the daemon's dashboard. */
export async function dashboardCommand (ctx: CommandContext): Promise<number> {
  if (ctx.settings.api === '') throw new ShoalError('ERR_BAD_CONFIG', 'the dashboard is served by a daemon: start `shoal daemon` and set SHOAL_API (--api) to its address')
  const client = new ControlClient({ address: ctx.settings.api, token: ctx.settings.apiToken, dataDir: ctx.settings.dataDir })
  const link = await client.dashboardLink()
  ctx.output.result({ ...link }, ctx.output.quiet
    ? link.url
    : `open within ${Math.round(link.expiresInMs / 1000)} s, once (it then becomes a cookie of that browser):\n${link.url}`)
  return ExitCode.OK
}
