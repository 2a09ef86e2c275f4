import type { ComponentLogger } from '@libp2p/interface'
import { ShoalNetwork } from '../net/index.js'
import type { XferContentSource } from '../net/index.js'
import { ShoalError } from '../util/shoal-error.js'
import type { ShoalInit } from './types.js'

/** Builds and starts the network of a node from its options; a busy port is ERR_PORT_IN_USE. */
export async function startNetwork (init: ShoalInit & { dataDir: string }, source: XferContentSource, logger: ComponentLogger): Promise<ShoalNetwork> {
  const { listen, announce, bootstrap, swarmKeyFile, dhtMode } = init
  const network = new ShoalNetwork({
    dataDir: init.dataDir,
    ...(listen === undefined ? {} : { listen }),
    ...(announce === undefined ? {} : { announce }),
    bootstrap: bootstrap ?? [],
    ...(swarmKeyFile === undefined ? {} : { swarmKeyFile }),
    dhtMode: dhtMode ?? 'server'
  }, { source, logger, ...(init.libp2pMetrics === undefined ? {} : { metrics: init.libp2pMetrics }) })
  try {
    await network.start()
  } catch (err) {
    throw translateStartError(err)
  }
  return network
}

function translateStartError (err: unknown): unknown {
  const text = err instanceof Error ? err.message : String(err)
  if (/EADDRINUSE|address already in use/i.test(text)) {
    return new ShoalError('ERR_PORT_IN_USE', `the listen port is already in use (${text}); choose another with --listen or stop the other node`, { cause: err })
  }
  return err
}
