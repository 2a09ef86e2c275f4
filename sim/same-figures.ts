/**
 * `node dist/sim/same-figures.js <other-dist> [--quick]`: proves a change to the simulator (or to the
 * session's hot loops) is pure performance. Runs the same fixed-seed scenarios with this build and
 * with another build (e.g. a copy of main's dist/) one after the other and compares every figure the
 * run prints (T_last, percentiles, efficiency, egress, duplicates, bans, passes, events), all but the
 * wall time and RSS. Exits 1 when any differs. Run it under the bench lock: it is a timing A/B too.
 */
import { spawnSync } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const CASES: string[][] = [
  ['--peers', '100'],
  ['--peers', '100', '--arrival', 'churn'],
  ['--peers', '100', '--corrupt', '0.05'],
  ['--peers', '1000'],
  ['--peers', '1000', '--arrival', 'churn'],
  ['--peers', '1000', '--corrupt', '0.05']
]

interface Outcome { figures: string, cost: string, wallS: number }

function run (dist: string, args: string[]): Outcome {
  const out = spawnSync(process.execPath, [join(dist, 'sim', 'main.js'), ...args, '--out', join(dist, '..', 'sim-out', 'same-figures')], { encoding: 'utf8', maxBuffer: 1 << 24 })
  if (out.status !== 0) throw new Error(`${dist}: sim ${args.join(' ')} exited ${out.status}: ${out.stderr}`)
  // The report is the lines between '== label' and 'plots:'; its last line ends with the run's cost.
  const lines = out.stdout.split('\n').filter(l => l !== '' && !l.startsWith('plots:') && !l.startsWith('=='))
  const last = lines.pop() ?? ''
  const at = last.indexOf(' in ')
  const wall = /in ([\d.]+) s wall/.exec(last)
  return { figures: [...lines, last.slice(0, at)].join('\n'), cost: last.slice(at + 1), wallS: Number(wall?.[1] ?? NaN) }
}

function main (): void {
  const args = process.argv.slice(2)
  const other = args.find(a => !a.startsWith('--'))
  if (other === undefined) {
    process.stderr.write('usage: node dist/sim/same-figures.js <other-dist> [--quick]\n')
    process.exitCode = 2
    return
  }
  const self = resolve(dirname(fileURLToPath(import.meta.url)), '..')
  const cases = args.includes('--quick') ? CASES.filter(c => c[1] === '100') : CASES
  let differ = 0
  for (const c of cases) {
    // interleaved: the other build first, then this one, case by case
    const a = run(resolve(other), c)
    const b = run(self, c)
    const same = a.figures === b.figures
    if (!same) differ++
    process.stdout.write(`${same ? 'same' : 'DIFFERENT'}: sim ${c.join(' ')}: wall ${a.wallS} s -> ${b.wallS} s (${(a.wallS / b.wallS).toFixed(2)}x)\n`)
    process.stdout.write(`  other: ${a.cost}\n  this:  ${b.cost}\n`)
    if (!same) process.stdout.write(`  other:\n${a.figures}\n  this:\n${b.figures}\n`)
  }
  process.stdout.write(differ === 0 ? 'all figures identical\n' : `${differ} case(s) differ\n`)
  if (differ > 0) process.exitCode = 1
}

main()
