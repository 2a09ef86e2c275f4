import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runHttpBaseline, runHttpClient, sha256File, startHttpFileServer } from '../../scripts/lib/http-baseline.js'
import type { HttpFileServer } from '../../scripts/lib/http-baseline.js'
import { NetnsTestbed, netnsUnavailableReason } from '../../scripts/lib/netns-hosts.js'

const RATE_MBIT = 20
const FILE_BYTES = 8 * 1024 * 1024
const skip = netnsUnavailableReason()
if (skip !== undefined) console.log(`# netns tests skipped: ${skip}`)

function goodputMbit (bytes: number, ms: number): number {
  return bytes * 8 / ms / 1000
}

describe('NetnsTestbed', { timeout: 240_000 }, () => {
  let bed: NetnsTestbed
  let dir = ''
  let file: string
  let sha256: string
  let server0: HttpFileServer | undefined

  before(async () => {
    if (skip !== undefined) return
    dir = await mkdtemp(join(tmpdir(), 'shoal-netns-test-'))
    file = join(dir, 'file.bin')
    await writeFile(file, randomBytes(FILE_BYTES))
    sha256 = await sha256File(file)
    bed = await NetnsTestbed.create({ hosts: 3, rateMbit: RATE_MBIT, names: { seeder: 0, 'peer-1': 1, 'peer-2': 2 } })
  })

  after(async () => {
    await server0?.stop()
    await bed?.destroy()
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  it('gives every host its own address and resolves service names inside each namespace', { skip }, async () => {
    assert.equal(new Set([0, 1, 2].map(i => bed.ip(i))).size, 3)
    for (let i = 0; i < 3; i++) {
      assert.match(bed.ip(i), /^10\.213\.\d+\.\d+$/)
      const child = bed.spawn(i, process.execPath, ['-e', "require('node:dns').lookup('seeder', { family: 4 }, (e, a) => console.log(e ? 'ERR' : a))"])
      let out = ''
      child.stdout?.on('data', (c: Buffer) => { out += c.toString() })
      await new Promise(resolve => child.once('exit', resolve))
      assert.equal(out.trim(), bed.ip(0))
    }
  })

  it('caps a single transfer near the rate', { skip }, async () => {
    const server = await startHttpFileServer(bed, 1, file, 8081)
    try {
      const r = await runHttpClient(bed, 2, server.url, join(dir, 'single.bin'), sha256, 60_000)
      const mbit = goodputMbit(r.bytes, r.ms)
      console.log(`# single flow h1->h2: ${r.bytes} bytes in ${r.ms.toFixed(0)} ms = ${mbit.toFixed(2)} Mbit/s (cap ${RATE_MBIT})`)
      assert.equal(r.bytes, FILE_BYTES)
      assert.ok(mbit < 2 * RATE_MBIT, `${mbit} Mbit/s is not shaped to ${RATE_MBIT}`)
    } finally {
      await server.stop()
    }
  })

  it("caps two downloads from one seeder by the seeder's upload", { skip }, async () => {
    const r = await runHttpBaseline(bed, { seeder: 0, clients: [1, 2], file, sha256, timeoutMs: 90_000 })
    const sum = goodputMbit(2 * FILE_BYTES, r.wallMs)
    console.log(`# two flows from h0: ${r.clients.map(c => goodputMbit(c.bytes, c.ms).toFixed(2)).join(' + ')} Mbit/s, together ${sum.toFixed(2)} Mbit/s; server sent ${r.serverTxBytes} bytes using ${r.serverCpuMs} ms CPU`)
    assert.deepEqual(r.clients.map(c => c.bytes), [FILE_BYTES, FILE_BYTES])
    assert.ok(r.serverTxBytes >= 2 * FILE_BYTES)
    assert.ok(sum < 1.5 * RATE_MBIT, `two flows together reached ${sum} Mbit/s`)
  })

  it("caps two uploads to one host by that host's download", { skip }, async () => {
    const a = await startHttpFileServer(bed, 1, file, 8082)
    const b = await startHttpFileServer(bed, 2, file, 8082)
    try {
      const rx0 = await bed.rxBytes(0)
      const start = performance.now()
      await Promise.all([
        runHttpClient(bed, 0, a.url, join(dir, 'from1.bin'), sha256, 90_000),
        runHttpClient(bed, 0, b.url, join(dir, 'from2.bin'), sha256, 90_000)
      ])
      const sum = goodputMbit(2 * FILE_BYTES, performance.now() - start)
      console.log(`# two flows into h0: together ${sum.toFixed(2)} Mbit/s (cap ${RATE_MBIT})`)
      assert.ok(await bed.rxBytes(0) - rx0 >= 2 * FILE_BYTES)
      assert.ok(sum < 1.5 * RATE_MBIT, `two flows into one host reached ${sum} Mbit/s`)
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  it('cuts a host off with setLink(false) and reconnects it with setLink(true)', { skip }, async () => {
    server0 = await startHttpFileServer(bed, 0, file, 8083)
    await bed.setLink(2, false)
    await assert.rejects(runHttpClient(bed, 2, server0.url, join(dir, 'down.bin'), sha256, 3_000))
    await bed.setLink(2, true)
    const r = await runHttpClient(bed, 2, server0.url, join(dir, 'up.bin'), sha256, 60_000)
    assert.equal(r.bytes, FILE_BYTES)
  })

  it('removes every namespace, veth and hosts file on destroy', { skip }, async () => {
    await server0?.stop()
    server0 = undefined
    const ns = [0, 1, 2].map(i => bed.ns(i))
    await bed.destroy()
    await bed.destroy()
    const list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    const links = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })
    const prefix = `shoal-${process.pid}-`
    assert.ok(!list.includes(prefix), `left behind: ${list}`)
    assert.ok(!links.includes(`shv${process.pid}`) && !links.includes(`shbr${process.pid}`), 'veth or bridge left in the root namespace')
    for (const name of ns) assert.ok(!existsSync(`/etc/netns/${name}`), `/etc/netns/${name} left behind`)
    assert.throws(() => bed.ip(0), { code: 'ERR_NETNS_DESTROYED' })
  })
})
