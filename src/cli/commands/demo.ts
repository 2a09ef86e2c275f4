import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ExitCode } from '../exit-codes.js'
import type { CommandContext } from '../command-context.js'
import { ShoalNode } from '../../node/shoal-node.js'
import { ShoalError } from '../../util/shoal-error.js'
import { parseBytes, parseRate } from '../settings.js'
import { formatBytes, formatDuration } from '../format.js'
import { ProgressReporter } from '../progress-reporter.js'
import type { Progress } from '../../node/types.js'

const GENERATOR_BLOCK = 4 * 1024 * 1024

/**
 * `shoal demo`: the whole story on one machine. A bootstrap node, a seeder and N receivers, each a
 * real libp2p node on its own loopback port with its own data dir, distribute a generated file;
 * every copy is checked byte for byte against the original's SHA-256; then everything is removed.
 */
export async function demoCommand (ctx: CommandContext, _args: string[], opts: Record<string, unknown>): Promise<number> {
  const receivers = Number(opts.receivers)
  if (!Number.isInteger(receivers) || receivers < 1 || receivers > 32) throw new ShoalError('ERR_BAD_CONFIG', `--receivers: "${String(opts.receivers)}" must be 1 to 32`)
  const size = parseBytes(String(opts.size), '--size')
  // The seeder's uplink is capped (like a publisher's real uplink) so that the receivers have to
  // trade chunks among themselves; on unshaped loopback they would all just drain the seeder.
  const seederLimit = parseRate(String(opts.seederLimit), '--seeder-limit')
  const out = ctx.output
  const work = await mkdtemp(join(tmpdir(), 'shoal-demo-'))
  const nodes: ShoalNode[] = []
  const node = (name: string, extra: { bootstrap?: string[], uploadLimit?: number } = {}): ShoalNode => {
    const n = new ShoalNode({ dataDir: join(work, name), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: extra.bootstrap ?? [], chunkSize: ctx.settings.chunkSize, uploadLimit: extra.uploadLimit, logTag: name })
    nodes.push(n)
    return n
  }
  try {
    const source = join(work, 'demo.bin')
    out.info(`generating a ${formatBytes(size)} file...`)
    const digest = await generateFile(source, size)

    const bootstrap = node('bootstrap')
    await bootstrap.start({ signal: ctx.signal })
    out.info(`bootstrap node ${bootstrap.peerId} on ${bootstrap.multiaddrs[0]}`)
    const seeder = node('seeder', { bootstrap: bootstrap.multiaddrs, uploadLimit: seederLimit })
    await seeder.start({ signal: ctx.signal })
    const added = await seeder.add(source, { signal: ctx.signal })
    out.info(`seeder published ${added.cid} (${added.chunks} chunks), its upload capped at ${seederLimit === 0 ? 'unlimited' : formatBytes(seederLimit) + '/s'}`)

    const peers = Array.from({ length: receivers }, (_, i) => node(`receiver-${i + 1}`, { bootstrap: bootstrap.multiaddrs }))
    await Promise.all(peers.map(async p => { await p.start({ signal: ctx.signal }) }))
    out.info(`${receivers} receivers fetching...`)

    const progress = new Map<number, Progress>()
    const reporter = new ProgressReporter(out)
    const started = Date.now()
    const finished: number[] = []
    await Promise.all(peers.map(async (p, i) => {
      const result = await p.get(added.cid, {
        out: join(work, `out-${i + 1}`),
        signal: ctx.signal,
        onProgress: pr => {
          progress.set(i, pr)
          reporter.update(combine(added.cid, [...progress.values()], receivers))
        }
      })
      finished[i] = Date.now() - started
      const copy = await sha256File(result.path)
      if (copy !== digest) throw new ShoalError('ERR_DEMO_MISMATCH', `receiver ${i + 1}'s copy differs from the original`)
    }))
    reporter.finish()
    const elapsed = Date.now() - started
    const seederStatus = await seeder.status()
    const egress = seederStatus.uploadedBytes / size
    // what the receivers say they got from the origin, next to what the seeder says it sent
    const received = await Promise.all(peers.map(async p => (await p.ls()).find(c => c.cid === added.cid)?.received))
    const fromOrigin = received.reduce((sum, r) => sum + (r?.origin ?? 0), 0)
    const fromPeers = received.reduce((sum, r) => sum + (r?.peer ?? 0), 0)
    const peerShare = fromOrigin + fromPeers === 0 ? 0 : fromPeers / (fromOrigin + fromPeers)
    const summary = {
      cid: added.cid,
      size,
      receivers,
      elapsedMs: elapsed,
      perReceiverMs: finished,
      aggregateBps: (size * receivers) / (elapsed / 1000),
      seederEgressRatio: egress,
      receiversPeerShare: peerShare,
      receiversFromOriginRatio: fromOrigin / size,
      seederLimitBps: seederLimit,
      verified: true
    }
    out.result(summary, [
      '',
      `all ${receivers} copies verified identical to the original (sha256 ${digest.slice(0, 16)}...)`,
      `time:       ${formatDuration(elapsed)} for the last receiver (${finished.map(ms => (ms / 1000).toFixed(1) + 's').join(', ')})`,
      `throughput: ${formatBytes(summary.aggregateBps)}/s delivered in total`,
      `seeder egress: ${egress.toFixed(2)} x the file size (receivers served the rest to each other)`,
      `receivers:  ${Math.round(100 * peerShare)}% of their bytes from peers, ${Math.round(100 * (1 - peerShare))}% (${(fromOrigin / size).toFixed(2)} x the file size) from the seeder`
    ].join('\n'))
    return ExitCode.OK
  } finally {
    await Promise.allSettled(nodes.map(async n => { await n.stop() }))
    await rm(work, { recursive: true, force: true })
  }
}

function combine (cid: string, all: Progress[], receivers: number): Progress {
  const sum = (f: (p: Progress) => number): number => all.reduce((a, p) => a + f(p), 0)
  const total = (all[0]?.total ?? 0) * receivers
  const totalBytes = (all[0]?.totalBytes ?? 0) * receivers
  const rate = sum(p => p.rateBps)
  const bytes = sum(p => p.bytes)
  return {
    cid,
    have: sum(p => p.have),
    total,
    bytes,
    totalBytes,
    rateBps: rate,
    peers: Math.max(0, ...all.map(p => p.peers)),
    etaSeconds: rate > 0 ? (totalBytes - bytes) / rate : undefined
  }
}

async function generateFile (path: string, size: number): Promise<string> {
  const hash = createHash('sha256')
  const block = randomBytes(Math.min(GENERATOR_BLOCK, Math.max(size, 1)))
  const fh = await open(path, 'w')
  try {
    let written = 0
    let round = 0
    while (written < size) {
      const n = Math.min(block.length, size - written)
      // vary each block so no two chunks are equal (equal chunks would hide placement bugs)
      block.writeUInt32LE(round++, 0)
      const piece = block.subarray(0, n)
      await fh.write(piece, 0, n, written)
      hash.update(piece)
      written += n
    }
  } finally {
    await fh.close()
  }
  return hash.digest('hex')
}

async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const part of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(part as Buffer)
  return hash.digest('hex')
}
