import { setTimeout as sleep } from 'node:timers/promises'
import { homedir } from 'node:os'
import { resolve } from 'node:path'
import { ControlClient } from '../api/control-client.js'
import type { ControlServer } from '../api/control-server.js'
import type { ShoalNode } from '../node/shoal-node.js'
import type { ShoalApi } from '../node/shoal-api.js'
import type { ShoalInit } from '../node/types.js'
import type { CommandContext } from './command-context.js'
import type { Settings } from './settings.js'

/** Node options from resolved CLI settings. */
export function initFromSettings (s: Settings): ShoalInit {
  return {
    dataDir: s.dataDir,
    listen: s.listen,
    announce: s.announce.length > 0 ? s.announce : undefined,
    bootstrap: s.bootstrap,
    swarmKeyFile: s.swarmKey === '' ? undefined : s.swarmKey,
    dhtMode: s.dhtMode,
    uploadLimit: s.uploadLimit,
    downloadLimit: s.downloadLimit,
    chunkSize: s.chunkSize,
    maxPeersPerContent: s.maxPeers,
    cacheMaxBytes: s.cacheMax,
    gcHighPercent: s.gcHigh,
    gcLowPercent: s.gcLow,
    cacheTtiMs: s.cacheTti,
    cacheTtlMs: s.cacheTtl
  }
}

// The node (libp2p and its ~900 modules) and the control server (node:http, prom-client) are imported
// when a command needs them: a client command (`shoal ls`, a `get` handed to a daemon) needs neither,
// and a standalone `get` or `seed` no server.

/** Starts a node in this process and says where it listens. */
export async function startNode (ctx: CommandContext, overrides: Partial<ShoalInit> = {}): Promise<ShoalNode> {
  const { ShoalNode } = await import('../node/shoal-node.js')
  const node = new ShoalNode({ ...initFromSettings(ctx.settings), ...overrides })
  node.addEventListener('stalled', ({ detail }) => { ctx.output.info(`stalled: no reachable peer holds ${detail.missing} missing chunk(s); still looking...`) })
  node.addEventListener('banned', ({ detail }) => { ctx.output.event('banned', { ...detail }) })
  await node.start({ signal: ctx.signal })
  ctx.output.event('node', { peerId: node.peerId, multiaddrs: node.multiaddrs })
  return node
}

/** The daemon's control API when one is configured (SHOAL_API / --api), else undefined. */
export function daemonClient (ctx: CommandContext): ShoalApi | undefined {
  if (ctx.settings.api === '') return undefined
  return new ControlClient({ address: ctx.settings.api, token: ctx.settings.apiToken, dataDir: ctx.settings.dataDir })
}

/**
 * The control API of a daemon or bootstrap node from resolved settings. With no SHOAL_API_TOKEN it
 * uses <data dir>/api.token; with no SHOAL_ALLOW_PATHS it may read and write under the home directory
 * and the data dir only.
 */
export async function controlServerFromSettings (s: Settings, address: string): Promise<ControlServer> {
  const { ControlServer } = await import('../api/control-server.js')
  const dataDir = resolve(s.dataDir)
  return new ControlServer({
    address,
    token: s.apiToken,
    allowHosts: s.apiAllowHosts,
    allowOrigins: s.apiAllowOrigins,
    allowPaths: s.allowPaths.length > 0 ? s.allowPaths : [homedir(), dataDir]
  })
}

/** Resolves when the signal aborts (Ctrl-C); used by commands that serve until interrupted. */
export async function untilAborted (signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>(resolve => signal.addEventListener('abort', () => { resolve() }, { once: true }))
}

/** Waits `ms` milliseconds (Infinity = until aborted) or until the signal aborts, whichever is first. */
export async function waitFor (ms: number, signal: AbortSignal): Promise<void> {
  if (!Number.isFinite(ms)) return untilAborted(signal)
  // timers cap at 2^31-1 ms; longer waits are split into steps
  let left = ms
  while (left > 0 && !signal.aborted) {
    const step = Math.min(left, 2 ** 31 - 1)
    await sleep(step, undefined, { signal }).catch(() => {})
    left -= step
  }
}
