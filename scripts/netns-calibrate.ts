/**
 * Measures what the netns testbed delivers: HTTP goodput vs the tbf cap for one flow and for two
 * flows sharing one uplink, and the CPU one Node process spends per Mbit/s. Prints a table; asserts
 * nothing (timings are for people to read). Needs root.
 *
 *   node dist/scripts/netns-calibrate.js [--rates 10,20,50] [--seconds 4]
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { runHttpBaseline, sha256File } from './lib/http-baseline.js'
import { NetnsTestbed, netnsUnavailableReason } from './lib/netns-hosts.js'

const { values } = parseArgs({ options: { rates: { type: 'string', default: '10,20,50' }, seconds: { type: 'string', default: '4' } } })
const rates = values.rates.split(',').map(Number)
const seconds = Number(values.seconds)

const reason = netnsUnavailableReason()
if (reason !== undefined) {
  console.error(`netns-calibrate: ${reason}`)
  process.exit(1)
}

const dir = await mkdtemp(join(tmpdir(), 'shoal-netns-calibrate-'))
try {
  console.log('rate  | flows | file MiB | per-flow Mbit/s (goodput)  | sum/cap | server CPU % | server CPU ms per MiB | client CPU %')
  for (const rate of rates) {
    // Sized so the single flow lasts about `seconds`; goodput excludes TCP/IP headers (~5%).
    const size = Math.round(rate * 1e6 / 8 * seconds)
    const file = join(dir, `f${rate}.bin`)
    await writeFile(file, randomBytes(size))
    const sha256 = await sha256File(file)
    const bed = await NetnsTestbed.create({ hosts: 3, rateMbit: rate })
    try {
      for (const clients of [[1], [1, 2]]) {
        const r = await runHttpBaseline(bed, { seeder: 0, clients, file, sha256, timeoutMs: 120_000 })
        const perFlow = r.clients.map(c => c.bytes * 8 / (c.ms / 1000) / 1e6)
        const sum = clients.length * size * 8 / (r.wallMs / 1000) / 1e6
        const clientCpu = r.clients.map(c => (100 * c.cpuMs / c.ms).toFixed(0))
        console.log([
          `${rate}`.padEnd(5), `${clients.length}`.padEnd(5), (size / 2 ** 20).toFixed(1).padEnd(8),
          perFlow.map(v => v.toFixed(2)).join(', ').padEnd(26),
          (sum / rate).toFixed(2).padEnd(7),
          (100 * r.serverCpuMs / r.wallMs).toFixed(1).padEnd(12),
          (r.serverCpuMs / (r.serverTxBytes / 2 ** 20)).toFixed(1).padEnd(21),
          clientCpu.join(', ')
        ].join(' | '))
      }
    } finally {
      await bed.destroy()
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
