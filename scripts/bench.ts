/**
 * `npm run bench`: the transfer-engine figures (issue 4, DESIGN.md "Performance, as measured").
 *
 *   node dist/scripts/bench.js [swarm] [pair] [rss] [registry]     (no argument: swarm, pair, rss)
 *
 *   swarm  1 seeder + 8 receivers in network namespaces at 20 Mbit/s: cold (processes started for
 *          the run), warm (daemons up before t0), then the BitTorrent
 *          (aria2c + opentracker) and HTTP client-server baselines over the same hosts (needs root;
 *          skipped otherwise)
 *   pair   `get` of 256 MiB over unshaped loopback as a ratio to a bare libp2p stream
 *   rss    peak RSS of a `shoal get` process receiving a 2 GiB file over loopback
 *   registry  8 hosts pull one ~48 MiB image through their own shoal registry mirror, then directly
 *          from the registry (docker-registry at 20 Mbit/s in network namespaces; needs root); only
 *          when named
 *
 * SHOAL_BENCH_QUICK=1 shrinks every size for a smoke run. SHOAL_BENCH_CHUNK sets the chunk size of
 * the swarm and rss parts (e.g. 256k; default: shoal's default). SHOAL_BENCH_SWARM picks the swarm
 * variants from plain (cold), warm, bt, http, corrupt2, corrupt3 (default plain,warm,bt,http);
 * corruptK runs the cold swarm with K receivers corrupting every chunk they serve (a test hook) and
 * compares its T_last with a clean run of the same invocation. super and warm-super went with
 * --super-seed in session 22 (docs/decisions.md): naming one is an error.
 * SHOAL_BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the seeder and receiver 1 of every cold and warm run
 * there. Prints figures, asserts nothing.
 */
import { cpus } from 'node:os'
import { runSwarmBench } from './bench-swarm.js'
import { runPairBench } from './bench-pair.js'
import { runRssBench } from './bench-rss.js'
import { runRegistryBench } from './bench-registry.js'

const MiB = 1024 * 1024
const PARTS = ['swarm', 'pair', 'rss', 'registry'] as const
/** Parts run when none is named (the registry part is run on its own). */
const DEFAULT_PARTS = ['swarm', 'pair', 'rss'] as const
const SWARM_VARIANTS = ['plain', 'warm', 'bt', 'http', 'corrupt2', 'corrupt3'] as const
/** Swarm variants run when SHOAL_BENCH_SWARM is not set. */
const DEFAULT_SWARM_VARIANTS = ['plain', 'warm', 'bt', 'http'] as const
/** Variants that ran the seeder with --super-seed, gone with it: named, they fail and say why. */
const RETIRED_SWARM_VARIANTS = ['super', 'warm-super']
type Part = typeof PARTS[number]

async function main (): Promise<void> {
  const quick = process.env.SHOAL_BENCH_QUICK === '1'
  const args = process.argv.slice(2)
  const bad = args.filter(a => !(PARTS as readonly string[]).includes(a))
  if (bad.length > 0) {
    console.error(`unknown part(s) ${bad.join(', ')}; choose from ${PARTS.join(', ')}`)
    process.exitCode = 2
    return
  }
  const parts: Part[] = args.length === 0 ? [...DEFAULT_PARTS] : args as Part[]
  const chunk = process.env.SHOAL_BENCH_CHUNK
  const variants = (process.env.SHOAL_BENCH_SWARM ?? DEFAULT_SWARM_VARIANTS.join(',')).split(',').map(v => v.trim())
  const unknown = variants.filter(v => !(SWARM_VARIANTS as readonly string[]).includes(v))
  if (unknown.length > 0) {
    const retired = unknown.filter(v => RETIRED_SWARM_VARIANTS.includes(v))
    const why = retired.length === 0 ? '' : ` (${retired.join(', ')}: removed with --super-seed in session 22, every seeder uses first-copy; docs/decisions.md)`
    console.error(`unknown SHOAL_BENCH_SWARM variant(s) ${unknown.join(', ')}${why}; choose from ${SWARM_VARIANTS.join(', ')}`)
    process.exitCode = 2
    return
  }
  console.log(`shoal bench: ${parts.join(', ')}${quick ? ' (SHOAL_BENCH_QUICK: reduced sizes)' : ''}; node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`)
  const failures: string[] = []
  const part = async (name: Part, run: () => Promise<unknown>): Promise<void> => {
    if (!parts.includes(name)) return
    try {
      await run()
    } catch (err) {
      failures.push(name)
      console.log(`\n${name}: FAILED: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  await part('swarm', async () => await runSwarmBench({
    receivers: 8,
    fileBytes: (quick ? 8 : 32) * MiB,
    rateMbit: 20,
    chunkSize: chunk,
    timeoutMs: 300_000,
    cold: variants.includes('plain'),
    warm: variants.includes('warm'),
    bt: variants.includes('bt'),
    http: variants.includes('http'),
    corrupt: [2, 3].filter(k => variants.includes(`corrupt${k}`))
  }))
  await part('pair', async () => await runPairBench({ totalMiB: quick ? 32 : 256, rounds: quick ? 1 : 3 }))
  await part('rss', async () => await runRssBench({ fileBytes: (quick ? 256 : 2048) * MiB, chunkSize: chunk }))
  await part('registry', async () => await runRegistryBench({ mirrors: 8, layers: 4, layerBytes: (quick ? 2 : 12) * MiB, rateMbit: 20, timeoutMs: 600_000 }))
  if (failures.length > 0) {
    console.log(`\nfailed parts: ${failures.join(', ')}`)
    process.exitCode = 1
  }
}

main().catch(err => {
  console.error(err)
  process.exitCode = 1
})
