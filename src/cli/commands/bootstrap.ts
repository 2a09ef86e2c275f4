import { ExitCode } from '../exit-codes.js'
import type { CommandContext } from '../command-context.js'
import { controlServerFromSettings, startNode, untilAborted } from '../node-from-settings.js'
import { ShoalError } from '../../util/shoal-error.js'

/**
 * `shoal bootstrap`: an ordinary node with a persisted identity, a fixed port, DHT server mode and
 * GossipSub routing, holding no content. It prints the multiaddrs other nodes should list.
 */
export async function bootstrapCommand (ctx: CommandContext, _args: string[], opts: Record<string, unknown>): Promise<number> {
  const port = Number(opts.port)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ShoalError('ERR_BAD_CONFIG', `--port: "${String(opts.port)}" is not a TCP port (1-65535)`)
  // --listen (or SHOAL_LISTEN) wins over --port; opts holds settings flags under their keys
  const listenGiven = opts.listen !== undefined || process.env.SHOAL_LISTEN !== undefined
  const listen = listenGiven ? ctx.settings.listen : [`/ip4/0.0.0.0/tcp/${port}`]
  const server = ctx.settings.api === '' ? undefined : await controlServerFromSettings(ctx.settings, ctx.settings.api)
  await server?.prepare(ctx.settings.dataDir)
  const node = await startNode(ctx, { listen, dhtMode: 'server' })
  try {
    const api = await server?.start(node)
    ctx.output.result({ peerId: node.peerId, multiaddrs: node.multiaddrs, api }, [
      `bootstrap node ${node.peerId}`,
      'other nodes should use one of:',
      ...node.multiaddrs.map(a => `  --bootstrap ${a}`),
      ...(api === undefined ? [] : [`control API (health, peers, metrics): ${api}`])
    ].join('\n'))
    await untilAborted(ctx.signal)
    return ExitCode.OK
  } finally {
    await server?.stop()
    await node.stop()
  }
}
