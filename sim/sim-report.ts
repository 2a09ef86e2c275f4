import { kumarRossSeconds } from './kumar-ross.js'
import { GOSSIP_VALIDATION_MS, SPREAD_SHARES } from './swarm-sim.js'
import type { SwarmSim } from './swarm-sim.js'

export interface SimReport {
  peers: number
  honest: number
  finished: number
  departed: number
  /** Latest finish, virtual seconds from the start of the run. */
  tLastS: number
  /** Completion times (finish - arrival) of finished honest peers, seconds. */
  p50S: number
  p90S: number
  p99S: number
  tMinS: number
  efficiency: number
  /** Bytes the origin uploaded / F. */
  originEgress: number
  /** Bytes received and not used (late duplicates, corrupt chunks, cancelled after sending) / F. */
  duplicateRatio: number
  /** Peers banned by at least one session, by kind. */
  bannedCorrupt: number
  bannedHonest: number
  /** Scheduler passes per honest session (mean). */
  passesPerSession: number
  events: number
  steps: number
  wallS: number
  /** Peak resident set of this process so far (all runs of one invocation), MB. */
  peakRssMB: number
}

function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

/** Figures of a finished run, in the terms of DESIGN.md "Performance, as measured". */
export function simReport (sim: SwarmSim, wallS: number): SimReport {
  const c = sim.config
  const F = c.chunks * c.chunkSize
  const receivers = sim.nodes.filter(n => n.kind === 'honest')
  const finished = receivers.filter(n => n.doneAt !== Infinity)
  const times = finished.map(n => (n.doneAt - c.peers[n.index - 1]!.arriveMs) / 1000).sort((a, b) => a - b)
  const tLastS = finished.length === 0 ? NaN : Math.max(...finished.map(n => n.doneAt)) / 1000
  const stayed = receivers.filter(n => n.departedAt === Infinity || n.doneAt !== Infinity)
  const tMinS = kumarRossSeconds(F, c.originUp, stayed.map(n => n.up), Math.min(...stayed.map(n => n.down)))
  let wasted = 0
  for (const n of receivers) wasted += n.session?.stats.wastedBytes ?? 0
  const kindOf = new Map(sim.nodes.map(n => [n.id, n.kind]))
  let bannedCorrupt = 0
  let bannedHonest = 0
  for (const id of sim.banned) {
    if (kindOf.get(id) === 'corrupt' || kindOf.get(id) === 'relay') bannedCorrupt++
    else bannedHonest++
  }
  return {
    peers: c.peers.length,
    honest: receivers.length,
    finished: finished.length,
    departed: receivers.filter(n => n.departedAt !== Infinity && n.doneAt === Infinity).length,
    tLastS,
    p50S: percentile(times, 0.5),
    p90S: percentile(times, 0.9),
    p99S: percentile(times, 0.99),
    tMinS,
    efficiency: tMinS / tLastS,
    originEgress: sim.origin.uploadedBytes / F,
    duplicateRatio: (wasted + sim.lateBytes) / F,
    bannedCorrupt,
    bannedHonest,
    passesPerSession: receivers.reduce((a, n) => a + (n.session?.stats.passes ?? 0), 0) / Math.max(1, receivers.length),
    events: sim.clock.events,
    steps: sim.clock.steps,
    wallS,
    peakRssMB: process.resourceUsage().maxRSS / 1024
  }
}

/** One line per figure, for the terminal. */
export function formatReport (r: SimReport): string {
  const f = (x: number, d = 1): string => Number.isFinite(x) ? x.toFixed(d) : '-'
  return [
    `peers ${r.peers} (honest ${r.honest}, finished ${r.finished}, left unfinished ${r.departed})`,
    `T_last ${f(r.tLastS)} s   completion p50 ${f(r.p50S)} s  p90 ${f(r.p90S)} s  p99 ${f(r.p99S)} s`,
    `T_min (Kumar-Ross) ${f(r.tMinS)} s   efficiency ${f(r.efficiency, 3)}`,
    `origin egress ${f(r.originEgress, 3)} x F   duplicate bytes ${f(r.duplicateRatio, 3)} x F`,
    `banned: ${r.bannedCorrupt} corrupting peer(s), ${r.bannedHonest} other(s)`,
    `${f(r.passesPerSession, 0)} scheduler passes per session; ${r.events} events at ${r.steps} instants in ${f(r.wallS)} s wall, peak RSS ${f(r.peakRssMB, 0)} MB`
  ].join('\n')
}

/**
 * Where efficiency goes (--diag): when the origin's last fresh chunk left, how busy its uplink was
 * until then, the tail after it, the receivers' lag behind it, the gossip delay and the holders' answers.
 */
export function formatDiagnostics (sim: SwarmSim, r: SimReport): string {
  const c = sim.config
  const first = [...sim.totals.originFirstSent]
  const lastFreshMs = Math.max(...first)
  const uploads = sim.totals.originUploads
  const chunkMs = c.chunkSize * 1000 / c.originUp
  const startMs = uploads.length === 0 ? 0 : Math.min(...uploads.map(([end]) => end)) - chunkMs
  const beforeFresh = uploads.filter(([end]) => end <= lastFreshMs).length
  const busyShare = beforeFresh * chunkMs / Math.max(1, lastFreshMs - startMs)
  const fresh = c.chunks * chunkMs
  const done = sim.nodes.filter(n => n.kind === 'honest' && n.doneAt !== Infinity).map(n => n.doneAt).sort((a, b) => a - b)
  const lag = (p: number): number => (done[Math.min(done.length - 1, Math.ceil(p * done.length) - 1)]! - lastFreshMs) / 1000
  const v = sim.verdicts
  const asked = v.ok + v.busy + v.elsewhere + v['not-held']
  const f = (x: number, d = 1): string => Number.isFinite(x) ? x.toFixed(d) : '-'
  return [
    `origin: first upload starts ${f(startMs / 1000, 2)} s, last fresh chunk left at ${f(lastFreshMs / 1000, 2)} s (${f(fresh / 1000)} s of uplink at best), uplink busy ${f(busyShare * 100)}% until then, ${beforeFresh - c.chunks} re-sends before it`,
    `origin uploads by reason: ${[...sim.totals.originUploadsByReason].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `tail: T_last - last fresh ${f(r.tLastS - lastFreshMs / 1000, 2)} s; finish - last fresh p50 ${f(lag(0.5), 2)} s, p99 ${f(lag(0.99), 2)} s`,
    `gossip: flood-published, one hop of ${f(c.latencyMs + GOSSIP_VALIDATION_MS, 0)} ms, rounded up to ${c.gossipTickMs} ms ticks; ${sim.haveBatches} HAVE batches (${f(sim.haveBatches / Math.max(1, sim.nodes.length - 1), 0)} per peer)`,
    `receivers' uplinks busy per 2 s: ${uplinkShares(sim, 2).map(x => f(x * 100, 0)).join(' ')} %`,
    `chunk spread, first copy to ${SPREAD_SHARES.slice(1).map(x => `${x * 100}%`).join(' / ')} of receivers (median over chunks): ${spread(sim).map(x => f(x / 1000, 2)).join(' / ')} s`,
    `answers to chunk requests: ${asked} (${f(asked / Math.max(1, r.honest), 0)} per receiver): ok ${f(v.ok / asked * 100)}%, busy ${f(v.busy / asked * 100)}%, elsewhere ${f(v.elsewhere / asked * 100)}%, not held ${f(v['not-held'] / asked * 100)}%`
  ].join('\n')
}

/** Share of all receivers' uplink time (arrived or not, any kind) spent sending, per bin of `binS` virtual seconds. */
export function uplinkShares (sim: SwarmSim, binS: number): number[] {
  const receivers = sim.nodes.filter(n => n !== sim.origin).length
  const out: number[] = []
  const ms = sim.receiverUplinkMs
  for (let b = 0; b * binS < ms.length; b++) {
    let busy = 0
    for (let s = b * binS; s < (b + 1) * binS; s++) busy += ms[s] ?? 0
    out.push(busy / (receivers * binS * 1000))
  }
  return out
}

/** Median over chunks of the time from a chunk's first verified copy to each further share of SPREAD_SHARES. */
function spread (sim: SwarmSim): number[] {
  const first = sim.spreadAt[0]!
  return sim.spreadAt.slice(1).map(at => {
    const ms: number[] = []
    for (let i = 0; i < at.length; i++) ms.push(first[i] === Infinity ? Infinity : at[i]! - first[i]!)
    ms.sort((a, b) => a - b)
    return ms[ms.length >> 1] ?? Infinity
  })
}
