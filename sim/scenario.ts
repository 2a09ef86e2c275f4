import { DEFAULT_MAX_CONNECTIONS } from '../src/net/constants.js'
import { DEFAULT_MAX_PEERS_PER_CONTENT } from '../src/node/constants.js'
import { DEFAULT_UPLOAD_SLOTS } from '../src/swarm/constants.js'
import { seededRandom } from './rng.js'
import type { PeerKind, PeerSpec, SeederPolicy, SimConfig } from './sim-config.js'

const MiB = 1024 * 1024

/** 20 Mbit/s as the netns bench shapes it, in payload bytes/s (1448 of every 1514 bytes on the wire). */
export const BENCH_GOODPUT = 2_500_000 * 1448 / 1514

export type Arrival = 'flash' | 'staggered' | 'churn'
export type Capacity = 'equal' | 'mixed'

export interface ScenarioOptions {
  peers: number
  contentMiB: number
  chunkKiB: number
  /** Every host's uplink (and, with equal capacities, downlink), bytes/s. */
  rate: number
  arrival: Arrival
  /** Arrivals spread over this window (staggered, churn), ms. */
  windowMs: number
  capacity: Capacity
  /** Share of peers that send corrupt chunks / lie in announcements / stall requests. */
  corrupt: number
  /** Share of peers that download honestly and serve what they hold corrupted (the bench's corrupters). */
  relays: number
  liars: number
  stallers: number
  policy: SeederPolicy
  latencyMs: number
  gossipLoss: number
  discoveryMs: number
  gossipTickMs: number
  clockResolutionMs: number
  uplinkOrder: 'fifo' | 'rarest'
  /** See SimConfig.uplinkModel, sendBufferBytes. */
  uplinkModel?: 'fifo' | 'conn'
  sendBufferBytes?: number
  firstCopySpread?: number
  /** See SimConfig.reports. */
  reports?: boolean
  haveFlushMs?: number
  /** See SimConfig.idleAdmit, busyUplink, busyOverrides, haveLeading. */
  idleAdmit?: boolean
  busyUplink?: boolean
  busyOverrides?: Record<string, number>
  /** See SimConfig.haveRareMs. */
  haveRareMs?: number
  /** See SimConfig.rareOverrides. */
  rareOverrides?: Record<string, number>
  haveLeading?: boolean
  /** Upload slots per node (production DEFAULT_UPLOAD_SLOTS, 8). */
  uploadSlots?: number
  sessionOverrides: Record<string, number>
  slotOverrides: Record<string, number>
  originOverrides: Record<string, number>
  seed: number
}

export const DEFAULT_SCENARIO: ScenarioOptions = {
  peers: 1_000,
  contentMiB: 64,
  chunkKiB: 256,
  rate: BENCH_GOODPUT,
  arrival: 'flash',
  windowMs: 60_000,
  capacity: 'equal',
  corrupt: 0,
  relays: 0,
  liars: 0,
  stallers: 0,
  policy: 'first-copy',
  latencyMs: 25,
  gossipLoss: 0.01,
  discoveryMs: 1_500,
  gossipTickMs: 50,
  clockResolutionMs: 1,
  uplinkOrder: 'fifo',
  sessionOverrides: {},
  slotOverrides: {},
  originOverrides: {},
  seed: 1
}

/** Builds the hosts of a scenario: arrival times, capacities and misbehaviour drawn from its seed. */
export function buildScenario (o: ScenarioOptions): SimConfig {
  const random = seededRandom(o.seed * 7919 + 13)
  const kinds: PeerKind[] = []
  const bad = (share: number, kind: PeerKind): void => { for (let i = 0; i < Math.round(share * o.peers); i++) kinds.push(kind) }
  bad(o.corrupt, 'corrupt')
  bad(o.relays, 'relay')
  bad(o.liars, 'liar')
  bad(o.stallers, 'staller')
  while (kinds.length < o.peers) kinds.push('honest')
  // misbehaving peers are spread through the arrival order, not bunched at its start
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!]
  }
  const peers: PeerSpec[] = kinds.map(kind => {
    let up = o.rate
    let down = o.rate
    if (o.capacity === 'mixed') {
      // residential-like mix: uplinks from 0.25x to 4x the base, downlinks 4x the uplink
      up = o.rate * [0.25, 0.5, 1, 2, 4][Math.floor(random() * 5)]!
      down = up * 4
    }
    let arriveMs = 0
    if (o.arrival !== 'flash') arriveMs = random() * o.windowMs
    let seedMs = Infinity
    let departMs = Infinity
    if (o.arrival === 'churn') {
      // finished peers seed for a while (exponential, mean 30 s); one in ten leaves mid-download
      seedMs = -Math.log(1 - random()) * 30_000
      if (random() < 0.1) departMs = arriveMs + random() * 60_000
    }
    return { up, down, arriveMs, kind, seedMs, departMs }
  })
  return {
    chunkSize: o.chunkKiB * 1024,
    chunks: Math.ceil(o.contentMiB * MiB / (o.chunkKiB * 1024)),
    originUp: o.rate,
    originDown: o.rate,
    peers,
    policy: o.policy,
    latencyMs: o.latencyMs,
    gossipLoss: o.gossipLoss,
    discoveryMs: o.discoveryMs,
    gossipTickMs: o.gossipTickMs,
    clockResolutionMs: o.clockResolutionMs,
    providersPerLookup: 20,
    maxPeers: DEFAULT_MAX_PEERS_PER_CONTENT,
    originMaxPeers: DEFAULT_MAX_CONNECTIONS,
    uploadSlots: o.uploadSlots ?? DEFAULT_UPLOAD_SLOTS,
    uplinkOrder: o.uplinkOrder,
    uplinkModel: o.uplinkModel,
    sendBufferBytes: o.sendBufferBytes,
    firstCopySpread: o.firstCopySpread,
    reports: o.reports,
    haveFlushMs: o.haveFlushMs,
    idleAdmit: o.idleAdmit,
    busyUplink: o.busyUplink,
    busyOverrides: o.busyOverrides,
    rareOverrides: o.rareOverrides,
    haveRareMs: o.haveRareMs,
    haveLeading: o.haveLeading,
    sessionOverrides: o.sessionOverrides,
    slotOverrides: o.slotOverrides,
    originOverrides: o.originOverrides,
    seed: o.seed,
    untilMs: 3_600_000
  }
}

/**
 * The netns bench (1 seeder + 8 receivers, 20 Mbit/s each way, 32 MiB, 256 KiB chunks) with its
 * measured start-up as an input: the bench's clock starts when the 8 `get` processes are spawned and
 * each receiver's first request leaves 3.7-9.2 s later (process start on 2 shared cores, DHT lookup,
 * manifest). The arrivals are spread evenly over that range; discovery is then immediate.
 */
export function calibrationScenario (seed = 1, policy: SeederPolicy = 'first-copy', experiment: Partial<ScenarioOptions> = {}): SimConfig {
  // The experiment switches (--session, --spread, ...) apply here too; the network is the bench's.
  const { sessionOverrides, slotOverrides, originOverrides, firstCopySpread, haveFlushMs, idleAdmit, busyUplink, busyOverrides, rareOverrides, haveRareMs, haveLeading, uploadSlots, uplinkOrder, uplinkModel, sendBufferBytes } = { ...DEFAULT_SCENARIO, ...experiment }
  const config = buildScenario({ ...DEFAULT_SCENARIO, sessionOverrides, slotOverrides, originOverrides, firstCopySpread, haveFlushMs, idleAdmit, busyUplink, busyOverrides, rareOverrides, haveRareMs, haveLeading, uploadSlots, uplinkOrder, uplinkModel, sendBufferBytes, policy, peers: 8, contentMiB: 32, latencyMs: 1, discoveryMs: 0, gossipLoss: 0, seed })
  config.peers.forEach((p, i) => { p.arriveMs = CALIBRATION_START_MS[0] + i * (CALIBRATION_START_MS[1] - CALIBRATION_START_MS[0]) / 7 })
  return config
}

/** Receivers' measured start-up range in the netns bench (first verified chunk, plain runs of 2026-12-01: 3.6-7.1 s), ms after spawn. */
export const CALIBRATION_START_MS: [number, number] = [3_580, 7_140]
/** The bench's measured T_last of the plain swarm (`npm run bench` of 2026-12-01, docs/benchmarks.md), seconds. */
export const CALIBRATION_MEASURED_T_LAST_S: [number, number] = [22.30, 23.27]
