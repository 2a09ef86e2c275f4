import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { ShoalError } from '../util/shoal-error.js'
import {
  DEFAULT_INBOUND_CONNECTIONS_PER_HOST_PER_SECOND,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS,
  IDENTITY_FILE
} from './constants.js'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Which of its own addresses a node announces to others:
 * - 'public': only publicly routable addresses;
 * - 'private': public and private (LAN, docker) addresses, never loopback;
 * - 'all': everything, loopback included (single-host testnets);
 * - 'auto': 'all' when every listen address is loopback, otherwise 'private'.
 */
export type AnnounceFilter = 'public' | 'private' | 'all' | 'auto'

/** Fully resolved configuration of one shoal network node. */
export interface NodeConfig {
  /** Directory holding the datastore (peer store, DHT records) and, by default, the identity key. */
  dataDir: string
  /** Multiaddrs to listen on. */
  listen: string[]
  /** Multiaddrs announced instead of the listen addresses (e.g. a NAT's public address). */
  announce: string[]
  announceFilter: AnnounceFilter
  /** Bootstrap multiaddrs, each ending in /p2p/<peerId>. */
  bootstrap: string[]
  /** Ed25519 identity key file; created on first use. */
  identityFile: string
  /** Private-network pre-shared key file; unset means an open network. */
  swarmKeyFile?: string
  dhtMode: 'server' | 'client'
  maxConnections: number
  /** Inbound connections accepted per remote host per second. */
  inboundConnectionsPerHostPerSecond: number
  maxIncomingPendingConnections: number
}

/** What a caller may pass: everything but dataDir is optional. */
export type NodeConfigInput = Partial<NodeConfig> & { dataDir: string }

const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0']
const ANNOUNCE_FILTERS: readonly AnnounceFilter[] = ['public', 'private', 'all', 'auto']

/** Applies defaults to `input` and validates every option; throws ERR_BAD_CONFIG naming the option. */
export function resolveNodeConfig (input: NodeConfigInput): NodeConfig {
  if (input == null || typeof input !== 'object') {
    throw badConfig('config', 'must be an object with at least `dataDir`')
  }
  if (typeof input.dataDir !== 'string' || input.dataDir.trim() === '') {
    throw badConfig('dataDir', 'must be a non-empty path to a directory shoal may create and write')
  }
  const listen = stringList('listen', input.listen ?? DEFAULT_LISTEN)
  if (listen.length === 0) throw badConfig('listen', 'needs at least one multiaddr, e.g. /ip4/0.0.0.0/tcp/4001')
  listen.forEach((addr, i) => {
    const ma = parseAddr(`listen[${i}]`, addr)
    if (!isTcp(ma)) throw badConfig(`listen[${i}]`, `"${addr}" is not a TCP address; shoal listens on /ip4|ip6/<host>/tcp/<port>`)
  })
  const announce = stringList('announce', input.announce ?? [])
  announce.forEach((addr, i) => parseAddr(`announce[${i}]`, addr))
  const bootstrap = stringList('bootstrap', input.bootstrap ?? [])
  bootstrap.forEach((addr, i) => {
    const ma = parseAddr(`bootstrap[${i}]`, addr)
    if (ma.getComponents().find(c => c.name === 'p2p')?.value == null) {
      throw badConfig(`bootstrap[${i}]`, `"${addr}" has no /p2p/<peerId> suffix; append the bootstrap node's PeerId (printed at its start)`)
    }
  })
  const announceFilter = input.announceFilter ?? 'auto'
  if (!ANNOUNCE_FILTERS.includes(announceFilter)) {
    throw badConfig('announceFilter', `"${String(announceFilter)}" is not one of ${ANNOUNCE_FILTERS.join(', ')}`)
  }
  const dhtMode = input.dhtMode ?? 'server'
  if (dhtMode !== 'server' && dhtMode !== 'client') {
    throw badConfig('dhtMode', `"${String(dhtMode)}" is not "server" or "client"`)
  }
  const identityFile = input.identityFile ?? join(input.dataDir, IDENTITY_FILE)
  if (typeof identityFile !== 'string' || identityFile === '') throw badConfig('identityFile', 'must be a file path')
  if (input.swarmKeyFile !== undefined && (typeof input.swarmKeyFile !== 'string' || input.swarmKeyFile === '')) {
    throw badConfig('swarmKeyFile', 'must be a file path (generate one with writeSwarmKeyFile)')
  }
  const config: NodeConfig = {
    dataDir: input.dataDir,
    listen,
    announce,
    announceFilter,
    bootstrap,
    identityFile,
    dhtMode,
    maxConnections: positiveInt('maxConnections', input.maxConnections ?? DEFAULT_MAX_CONNECTIONS),
    inboundConnectionsPerHostPerSecond: positiveInt('inboundConnectionsPerHostPerSecond',
      input.inboundConnectionsPerHostPerSecond ?? DEFAULT_INBOUND_CONNECTIONS_PER_HOST_PER_SECOND),
    maxIncomingPendingConnections: positiveInt('maxIncomingPendingConnections',
      input.maxIncomingPendingConnections ?? DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS)
  }
  if (input.swarmKeyFile !== undefined) config.swarmKeyFile = input.swarmKeyFile
  return config
}

function badConfig (option: string, why: string): ShoalError {
  return new ShoalError('ERR_BAD_CONFIG', `invalid network option \`${option}\`: ${why}`)
}

function stringList (option: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some(v => typeof v !== 'string')) {
    throw badConfig(option, 'must be an array of multiaddr strings')
  }
  return [...value] as string[]
}

function parseAddr (option: string, addr: string): Multiaddr {
  try {
    return multiaddr(addr)
  } catch (err) {
    throw badConfig(option, `"${addr}" is not a valid multiaddr (${(err as Error).message}); expected e.g. /ip4/10.0.0.5/tcp/4001`)
  }
}

function isTcp (ma: Multiaddr): boolean {
  const names = ma.getComponents().map(c => c.name)
  return ['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(names[0] ?? '') && names[1] === 'tcp'
}

function positiveInt (option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw badConfig(option, `must be a positive integer, got ${String(value)}`)
  }
  return value
}
