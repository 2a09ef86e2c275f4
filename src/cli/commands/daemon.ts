import { ExitCode } from '../exit-codes.js'
import type { CommandContext } from '../command-context.js'
import { controlServerFromSettings, startNode, untilAborted } from '../node-from-settings.js'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_API_ADDRESS } from '../../api/constants.js'
import { tokenFileIn } from '../../api/api-token.js'
import { RegistryServer, Upstreams, UpstreamCredentials } from '../../registry/index.js'
import type { Settings } from '../settings.js'

const defaultDataDir = (): string => join(homedir(), '.shoal')

/** `shoal daemon`: a long-lived node serving the HTTP control API until interrupted. */
export async function daemonCommand (ctx: CommandContext): Promise<number> {
  const address = ctx.settings.api === '' ? DEFAULT_API_ADDRESS : ctx.settings.api
  // validate the API settings before the node opens sockets, so a bad token setup fails fast
  const server = await controlServerFromSettings(ctx.settings, address)
  await server.prepare(ctx.settings.dataDir)
  const mirror = registryFromSettings(ctx.settings)
  await mirror?.prepare()
  const node = await startNode(ctx, ctx.settings.libp2pMetrics ? { libp2pMetrics: server.libp2pMetrics() } : {})
  try {
    const url = await server.start(node)
    const registry = await mirror?.start(node)
    ctx.output.result({ api: url, ...(registry === undefined ? {} : { registry }), peerId: node.peerId, multiaddrs: node.multiaddrs }, [
      `shoal daemon ${node.peerId}`,
      `control API: ${url}`,
      ...(registry === undefined ? [] : [`registry mirror: ${registry}`]),
      ...node.multiaddrs.map(a => `listening:   ${a}`),
      `use it with: SHOAL_API=${address}${ctx.settings.dataDir === defaultDataDir() ? '' : ` SHOAL_DATA_DIR=${ctx.settings.dataDir}`} shoal ls` +
        (ctx.settings.apiToken === '' ? ` (the token is in ${tokenFileIn(ctx.settings.dataDir)})` : '')
    ].join('\n'))
    await untilAborted(ctx.signal)
    return ExitCode.OK
  } finally {
    await mirror?.stop()
    await server.stop()
    await node.stop()
  }
}

/** The registry mirror when SHOAL_REGISTRY is set; its upstream settings are checked before the node starts. */
function registryFromSettings (s: Settings): RegistryServer | undefined {
  if (s.registry === '') return undefined
  return new RegistryServer({
    address: s.registry,
    upstreams: Upstreams.parse(s.upstream),
    credentials: UpstreamCredentials.parse(s.upstreamAuth),
    allowRemote: s.registryPublic
  })
}
