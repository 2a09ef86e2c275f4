import { mkdir, access, statfs, constants as fsConstants } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { identify } from '@libp2p/identify'
import { kadDHT } from '@libp2p/kad-dht'
import { logger } from '@libp2p/logger'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { ShoalError } from '../util/shoal-error.js'
import { effectiveAnnounceFilter, filterAddresses, keepAllAddressesMapper } from './addresses.js'
import { bootstrapDialer } from './bootstrap-dialer.js'
import {
  DATASTORE_DIR,
  DHT_PROTOCOL,
  PROVIDER_REPROVIDE_THRESHOLD_MS,
  PROVIDER_SWEEP_INTERVAL_MS,
  PROVIDER_VALIDITY_MS
} from './constants.js'
import { shoalGossipsub } from './gossipsub.js'
import { shoalNoise } from './shoal-noise.js'
import { StopTolerantDatastore } from './stop-tolerant-datastore.js'
import { filterRepeatMerges } from './repeat-merge-filter.js'
import { loadOrCreateIdentity } from './identity.js'
import { loadSwarmKey } from './swarm-key.js'
import type { BootstrapDialer } from './bootstrap-dialer.js'
import type { GossipSub } from './gossipsub.js'
import type { NodeConfig } from './node-config.js'
import type { Identify } from '@libp2p/identify'
import type { ComponentLogger, Libp2p, Logger, PrivateKey, ServiceMap, Startable } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { Libp2pOptions } from 'libp2p'

/** The services every shoal node runs. */
export interface ShoalServices extends ServiceMap {
  identify: Identify
  ping: Ping
  dht: KadDHT
  pubsub: GossipSub
  bootstrapDialer: BootstrapDialer
  datastoreLifecycle: Startable
}

/** A shoal libp2p node; extra services (e.g. the xfer protocol) are reachable by their key. */
export type ShoalLibp2p = Libp2p<ShoalServices & Record<string, unknown>>

/** A libp2p service factory: gets the node's components, returns the service (often a Startable). */
export type ServiceFactory = (components: any) => unknown // eslint-disable-line @typescript-eslint/no-explicit-any

export interface CreateShoalLibp2pOptions {
  /** More libp2p services, e.g. `{ xfer: xferProtocol(...) }`; keys must not clash with ShoalServices. */
  extraServices?: Record<string, ServiceFactory>
  /** The node's logger: libp2p and its services log through it (default: no node tag). */
  logger?: ComponentLogger
  /** Identity to use instead of loading config.identityFile. */
  privateKey?: PrivateKey
  /** libp2p's metrics implementation (e.g. `@libp2p/prometheus-metrics`, made above src/net); none by default. */
  metrics?: ServiceFactory
}

/**
 * Assembles (without starting it) a shoal libp2p node: TCP + Noise + yamux, identify, ping,
 * the private Kad-DHT, GossipSub, bootstrap with retry, optional private-network key, and a
 * datastore: DHT records in LevelDB under `<dataDir>/datastore`, the peer store in memory.
 */
export async function createShoalLibp2p (config: NodeConfig, options: CreateShoalLibp2pOptions = {}): Promise<ShoalLibp2p> {
  const log = options.logger?.forComponent('shoal:net:create-libp2p') ?? logger('shoal:net:create-libp2p')
  await ensureDataDir(config.dataDir)
  const privateKey = options.privateKey ?? await loadOrCreateIdentity(config.identityFile)
  const psk = config.swarmKeyFile !== undefined ? await loadSwarmKey(config.swarmKeyFile) : undefined
  const datastore = await openDatastore(join(config.dataDir, DATASTORE_DIR), options.logger)
  const announceFilter = effectiveAnnounceFilter(config.announceFilter, config.listen.map(a => multiaddr(a)))

  const extra = options.extraServices ?? {}
  const services = {
    identify: identify(),
    ping: ping(),
    dht: kadDHT({
      protocol: DHT_PROTOCOL,
      clientMode: config.dhtMode === 'client',
      peerInfoMapper: keepAllAddressesMapper,
      // Queries wait for the first self-query, by default started 1 s after start: that wait was
      // most of a receiver's time to first chunk. Start it at once.
      initialQuerySelfInterval: 0,
      reprovide: {
        validity: PROVIDER_VALIDITY_MS,
        interval: PROVIDER_SWEEP_INTERVAL_MS,
        threshold: PROVIDER_REPROVIDE_THRESHOLD_MS
      }
    }),
    pubsub: shoalGossipsub(),
    bootstrapDialer: bootstrapDialer({ list: config.bootstrap }),
    datastoreLifecycle: () => datastoreLifecycle(datastore, log),
    ...extra
  }
  for (const key of Object.keys(extra)) {
    if (['identify', 'ping', 'dht', 'pubsub', 'bootstrapDialer', 'datastoreLifecycle'].includes(key)) {
      throw new ShoalError('ERR_BAD_CONFIG', `extra service name "${key}" clashes with a built-in shoal service; pick another name`)
    }
  }

  const init: Libp2pOptions<Record<string, unknown>> = {
    privateKey,
    datastore,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    start: false,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics as Libp2pOptions['metrics'] }),
    addresses: {
      listen: config.listen,
      announce: config.announce,
      announceFilter: addrs => filterAddresses(announceFilter, addrs)
    },
    transports: [tcp()],
    connectionEncrypters: [shoalNoise()],
    streamMuxers: [yamux()],
    connectionManager: {
      maxConnections: config.maxConnections,
      inboundConnectionThreshold: config.inboundConnectionsPerHostPerSecond,
      maxIncomingPendingConnections: config.maxIncomingPendingConnections
    },
    // The monitor's ping shares the connection with chunk data: on a saturated link (20 Mbit/s with
    // chunks queued in yamux) its round trip exceeds the adaptive timeout learnt on an idle link, and
    // aborting the connection then kills every transfer on it. Dead peers are still found by TCP,
    // yamux's own keep-alive and the xfer request timeouts. Without the abort, all it did was measure
    // a round trip nothing reads, at the price of a new ping stream per connection every 10 s on
    // both sides (stream negotiation, a peer-store write, a logger), idle or not: it is off.
    connectionMonitor: { enabled: false },
    peerDiscovery: config.bootstrap.length > 0 ? [bootstrap({ list: config.bootstrap })] : [],
    // kad-dht's components include `ping`, a sibling service; libp2p supplies it at runtime.
    services: services as unknown as Libp2pOptions<Record<string, unknown>>['services']
  }
  if (psk !== undefined) init.connectionProtector = preSharedKey({ psk })

  let node: ShoalLibp2p
  try {
    node = await createLibp2p(init) as unknown as ShoalLibp2p
  } catch (err) {
    await Promise.resolve(datastore.close()).catch(() => {})
    throw err
  }
  filterRepeatMerges(node.peerStore)
  log('created node %p (dht %s, private network %s)', node.peerId, config.dhtMode, psk !== undefined)
  return node
}

async function ensureDataDir (dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await access(dir, fsConstants.W_OK | fsConstants.R_OK)
  } catch (err) {
    throw new ShoalError('ERR_BAD_DATA_DIR', `data directory ${dir} is unusable: ${(err as Error).message}; choose a writable directory with dataDir`, { cause: err })
  }
}

async function openDatastore (path: string, logger?: ComponentLogger): Promise<StopTolerantDatastore> {
  const datastore = new StopTolerantDatastore(path, logger)
  try {
    await datastore.open()
  } catch (err) {
    const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message
    // datastore-level drops LevelDB's reason ("Database failed to open"); without this check a full
    // disk read as "is another node using it?"
    if (isNoSpace(err) || await deviceIsFull(path)) {
      throw new ShoalError('ERR_DISK_FULL', `cannot open datastore ${path}: no space left on its device; free some space or choose another dataDir`, { cause: err })
    }
    throw new ShoalError('ERR_BAD_DATA_DIR', `cannot open datastore ${path}: ${cause}; is another shoal node using the same dataDir?`, { cause: err })
  }
  return datastore
}

/** True when the device holding `path` (or its parent, if `path` does not exist yet) has no free block. */
async function deviceIsFull (path: string): Promise<boolean> {
  for (const candidate of [path, dirname(path)]) {
    try {
      return (await statfs(candidate)).bavail === 0
    } catch {
      // not there yet: ask its parent
    }
  }
  return false
}

/** True when `err` or one of its causes says the device is full (LevelDB nests it two levels deep). */
function isNoSpace (err: unknown): boolean {
  let e = err as { code?: string, message?: string, cause?: unknown } | undefined
  for (let depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (e.code === 'ENOSPC' || /no space left on device/i.test(String(e.message))) return true
    e = e.cause as typeof e
  }
  return false
}

// libp2p never opens or closes the datastore it is given; this service ties it to the node's
// lifecycle so a stopped node releases the LevelDB lock and a restarted one reopens it.
// Its beforeStop runs before any service's stop, so every write libp2p makes while stopping is
// tolerated (see StopTolerantDatastore); a close that fails is logged, the node is stopped anyway.
function datastoreLifecycle (datastore: StopTolerantDatastore, log: Logger): Startable {
  return {
    async beforeStart () { await datastore.open() },
    start () {},
    beforeStop () { datastore.stopping() },
    stop () {},
    async afterStop () {
      await datastore.close().catch(err => { log.error('closing the datastore failed - %e', err) })
    }
  }
}
