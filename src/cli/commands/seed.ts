import { ExitCode } from '../exit-codes.js'
import type { CommandContext } from '../command-context.js'
import { startNode, untilAborted } from '../node-from-settings.js'
import { formatBytes } from '../format.js'

/** `shoal seed <path>`: add, print the CID and how to fetch it, serve until interrupted. */
export async function seedCommand (ctx: CommandContext, [path]: string[], _opts?: Record<string, unknown>): Promise<number> {
  const node = await startNode(ctx)
  try {
    const added = await node.add(path!, { signal: ctx.signal, chunkSize: ctx.settings.chunkSize })
    const bootstrap = ctx.settings.bootstrap.length > 0 ? ctx.settings.bootstrap : node.multiaddrs
    const fetch = `shoal get ${added.cid} --bootstrap ${bootstrap.join(',')}`
    ctx.output.result({ ...added, peerId: node.peerId, multiaddrs: node.multiaddrs }, [
      added.cid,
      ...(ctx.output.quiet
        ? []
        : ['', `seeding ${added.name} (${formatBytes(added.size)}, ${added.chunks} chunks) from ${added.path}`,
            'fetch it with:', `  ${fetch}`, '', 'Ctrl-C to stop seeding.'])
    ].join('\n'))
    await untilAborted(ctx.signal)
    return ExitCode.OK
  } finally {
    await node.stop()
  }
}
