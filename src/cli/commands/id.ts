import { ExitCode } from '../exit-codes.js'
import type { CommandContext } from '../command-context.js'
import { ShoalNode } from '../../node/shoal-node.js'
import { initFromSettings } from '../node-from-settings.js'

/** `shoal id`: create the identity on first use, then show it. */
export async function idCommand (ctx: CommandContext): Promise<number> {
  const { peerId, identityFile, created } = await ShoalNode.identity(initFromSettings(ctx.settings))
  ctx.output.result({ peerId, identityFile, created }, ctx.output.quiet ? peerId : `${peerId}\n${created ? 'created' : 'key'}: ${identityFile}`)
  return ExitCode.OK
}

/** `shoal swarm-key <file>`: write a new private swarm key. */
export async function swarmKeyCommand (ctx: CommandContext, [file]: string[]): Promise<number> {
  await ShoalNode.createSwarmKey(file!)
  ctx.output.result({ swarmKeyFile: file }, `wrote ${file}; give this file to every node with --swarm-key (SHOAL_SWARM_KEY)`)
  return ExitCode.OK
}
