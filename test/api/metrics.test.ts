// The issue's "done when": /metrics passes `promtool check metrics` (Debian `prometheus`, installed
// by the project's own files when missing and root) or the exposition parser otherwise, and every
// metric the issue names moves in a real swarm: bytes by source, requests by outcome and latency,
// gossip, DHT queries, bans, stalls, peers, contents by state, disk bytes held.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { copyFile, mkdir, open, readFile, stat, utimes, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { ControlServer } from '../../src/api/control-server.js'
import type { ShoalNode } from '../../src/node/shoal-node.js'
import { ensureTool } from '../testnet/helpers.js'
import { CHUNK, Harness, randomFile, sha256File, waitUntil, within } from '../node/helpers.js'
import { parseExposition, valueOf, type Sample } from './exposition.js'

const TOKEN = 'metrics-test-token-0123456789abcdef'
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

async function scrape (base: string): Promise<{ text: string, samples: Sample[] }> {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
  assert.equal(res.status, 200)
  const text = await res.text()
  return { text, samples: parseExposition(text) }
}

async function promtool (text: string): Promise<{ code: number | null, output: string }> {
  const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { output += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { output += d })
  child.stdin.end(text)
  const code = await within('promtool', 30_000, new Promise<number | null>(resolve => child.once('exit', resolve)))
  return { code, output }
}

describe('Prometheus metrics of a node in a swarm', { timeout: 120_000 }, () => {
  const h = new Harness()
  let observed: ShoalNode
  let server: ControlServer
  let base: string
  let promtoolMissing: string | undefined

  before(async () => {
    promtoolMissing = ensureTool('promtool', ['--version'], 'prometheus')
    await h.startBootstrap()
    observed = await h.node()
    server = new ControlServer({ address: '127.0.0.1:0', token: TOKEN, allowPaths: h.dirs })
    base = await server.start(observed)
  })
  after(async () => {
    await server?.stop()
    await h.cleanup()
  })

  it('every metric moves, and the exposition passes promtool (or the parser)', async () => {
    const first = await scrape(base)
    for (const name of ['shoal_chunk_requests_total', 'shoal_received_bytes_total', 'shoal_gossip_messages_total', 'shoal_dht_query_duration_seconds_bucket', 'shoal_contents_by_state', 'shoal_held_bytes', 'shoal_bans_total', 'shoal_stalls_total']) {
      assert.ok(first.samples.some(s => s.name === name), `${name} is exported from the first scrape`)
    }

    // 1. a content from a slow origin and from a peer whose copy went bad on disk: origin and peer
    //    bytes, ok and bad-chunk answers, a ban (as in test/node/bad-peer.test.ts)
    const size = 1024 * 1024
    const chunks = size / CHUNK
    const source = join(await h.tempDir(), 'data.bin')
    await randomFile(source, size)
    const hash = await sha256File(source)
    const firstSeeder = await h.node()
    const cid = (await firstSeeder.add(source)).cid
    const bad = await h.node()
    const badCopy = (await within('the bad peer\'s download', 20_000, bad.get(cid, { out: await h.tempDir() }))).path
    await firstSeeder.stop()
    const was = await stat(badCopy)
    const fh = await open(badCopy, 'r+')
    try {
      for (let i = 0; i < chunks; i += 2) await fh.write(Buffer.from([0xde, 0xad, 0xbe, 0xef]), 0, 4, i * CHUNK + 100)
    } finally {
      await fh.close()
    }
    await utimes(badCopy, was.atime, was.mtime)
    const honestDir = join(await h.tempDir(), 'copy')
    await mkdir(honestDir)
    await copyFile(source, join(honestDir, 'data.bin'))
    const honest = await h.node({ uploadLimit: 384 * 1024 })
    assert.equal((await honest.add(join(honestDir, 'data.bin'))).cid, cid)
    const result = await within('the observed download', 40_000, observed.get(cid, { out: await h.tempDir() }))
    assert.equal(await sha256File(result.path), hash)
    console.log(`# observed node received ${JSON.stringify(result.received)} (peer share ${result.peerShare?.toFixed(2)})`)

    // a content the observed node can only get from a peer that did not publish it: peer bytes
    const relayedSource = join(await h.tempDir(), 'relayed.bin')
    await randomFile(relayedSource, size / 4)
    const publisher = await h.node()
    const relayedCid = (await publisher.add(relayedSource)).cid
    const relay = await h.node()
    await within('the relay\'s download', 20_000, relay.get(relayedCid, { out: await h.tempDir() }))
    await publisher.stop()
    const relayed = await within('the relayed download', 30_000, observed.get(relayedCid, { out: await h.tempDir() }))
    assert.deepEqual(relayed.received, { origin: 0, peer: size / 4, upstream: 0 })

    // a later receiver takes chunks from the observed node: sent bytes
    const late = await h.node()
    await within('the late download', 30_000, late.get(cid, { out: await h.tempDir() }))

    // 2. a download whose only provider leaves: a stall
    const stallSource = join(await h.tempDir(), 'stall.bin')
    await randomFile(stallSource, size)
    const slow = await h.node({ uploadLimit: 128 * 1024 })
    const stallCid = (await slow.add(stallSource)).cid
    const stalling = observed.get(stallCid, { out: await h.tempDir() })
    stalling.catch(() => {})
    await waitUntil('a few chunks of the stalling content', async () => ((await observed.ls()).find(c => c.cid === stallCid)?.have ?? 0) >= 2)
    await slow.stop()
    await waitUntil('the stall counted', async () => valueOf((await scrape(base)).samples, 'shoal_stalls_total') > 0, 30_000)

    const last = await scrape(base)
    const moved = (name: string, labels: Record<string, string> = {}): number => {
      const now = valueOf(last.samples, name, labels)
      assert.ok(now > valueOf(first.samples, name, labels), `${name}${JSON.stringify(labels)} moved (${valueOf(first.samples, name, labels)} -> ${now})`)
      return now
    }
    const fromOrigin = moved('shoal_received_bytes_total', { source: 'origin' })
    const fromPeers = moved('shoal_received_bytes_total', { source: 'peer' })
    assert.ok(fromOrigin + fromPeers >= size, `received ${fromOrigin} + ${fromPeers} B, at least the content's ${size} B`)
    moved('shoal_sent_bytes_total')
    moved('shoal_chunk_requests_total', { outcome: 'ok' })
    moved('shoal_chunk_requests_total', { outcome: 'bad-chunk' })
    moved('shoal_chunk_request_duration_seconds_count')
    moved('shoal_bans_total')
    moved('shoal_stalls_total')
    moved('shoal_gossip_messages_total', { direction: 'in' })
    moved('shoal_gossip_messages_total', { direction: 'out' })
    moved('shoal_dht_query_duration_seconds_count', { kind: 'find-providers' })
    moved('shoal_dht_query_duration_seconds_count', { kind: 'provide' })
    moved('shoal_peers')
    moved('shoal_contents_by_state', { state: 'seeding' })
    moved('shoal_contents_by_state', { state: 'downloading' })
    assert.ok(valueOf(last.samples, 'shoal_held_bytes') >= size, 'the complete content is counted as held')
    const outcomes = last.samples.filter(s => s.name === 'shoal_chunk_requests_total').map(s => `${s.labels.outcome}=${s.value}`)
    console.log(`# requests by outcome: ${outcomes.join(' ')}`)

    if (promtoolMissing !== undefined) {
      console.log(`# promtool not run (${promtoolMissing}); the exposition parser passed`)
    } else {
      const checked = await promtool(last.text)
      assert.equal(checked.code, 0, `promtool check metrics: ${checked.output}`)
      console.log(`# promtool check metrics: ok${checked.output.trim() === '' ? '' : ` (${checked.output.trim()})`}`)
    }
    await observed.remove(stallCid)
  })

  it('libp2p\'s own metrics join the same /metrics behind libp2pMetrics, one registry per node', async () => {
    const withLibp2p = new ControlServer({ address: '127.0.0.1:0', token: TOKEN, allowPaths: h.dirs })
    const node = await h.node({ libp2pMetrics: withLibp2p.libp2pMetrics() })
    const at = await withLibp2p.start(node)
    try {
      const { text, samples } = await scrape(at)
      const libp2p = [...new Set(samples.filter(s => s.name.startsWith('libp2p_')).map(s => s.name))]
      console.log(`# ${libp2p.length} libp2p_* series names, e.g. ${libp2p.slice(0, 4).join(', ')}`)
      assert.ok(libp2p.length > 0, 'libp2p metrics are exported')
      assert.ok(samples.some(s => s.name === 'shoal_peers'), 'next to shoal\'s')
      // the other node's registry is untouched: no libp2p_* there
      assert.ok(!(await scrape(base)).samples.some(s => s.name.startsWith('libp2p_')))
      if (promtoolMissing === undefined) {
        // libp2p names some gauges *_total, which promtool's linter flags; it must find nothing else
        const checked = await promtool(text)
        const problems = checked.output.split('\n').filter(l => l.trim() !== '')
        console.log(`# promtool on libp2p's metrics: ${problems.length} lint finding(s): ${problems.join('; ')}`)
        assert.ok(problems.every(l => l.startsWith('libp2p_')), `promtool found problems outside libp2p's own metrics: ${checked.output}`)
      }
    } finally {
      await withLibp2p.stop()
    }
  })

  it('the Grafana dashboard in deploy/ queries only exported metrics, in valid PromQL', async (t) => {
    const dashboard = JSON.parse(await readFile(join(ROOT, 'deploy', 'grafana-dashboard.json'), 'utf8')) as { panels: Array<{ title: string, targets: Array<{ expr: string }> }> }
    const exported = new Set(parseExposition((await scrape(base)).text).map(s => s.name))
    const exprs = dashboard.panels.flatMap(p => p.targets.map(target => target.expr))
    assert.ok(exprs.length >= 10)
    for (const expr of exprs) {
      for (const name of expr.match(/shoal_[a-z_]+/g) ?? []) assert.ok(exported.has(name) || exported.has(`${name}_count`), `${name} (in "${expr}") is exported`)
    }
    if (promtoolMissing !== undefined) { t.skip(promtoolMissing); return }
    // promtool parses PromQL when checking rules: each panel query becomes a recording rule
    const rules = join(await h.tempDir(), 'rules.yml')
    const concrete = exprs.map(e => e.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*'))
    await writeFile(rules, `groups:\n  - name: grafana\n    rules:\n${concrete.map((e, i) => `      - record: shoal:panel_${i}\n        expr: ${JSON.stringify(e)}\n`).join('')}`)
    const child = spawn('promtool', ['check', 'rules', rules], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { output += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { output += d })
    const code = await within('promtool check rules', 30_000, new Promise<number | null>(resolve => child.once('exit', resolve)))
    assert.equal(code, 0, output)
  })
})
