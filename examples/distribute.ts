// Distributes one file from a seeder to two receivers on this machine through the programmatic API.
// Run it with `npm run build && node dist/examples/distribute.js [size-MiB] [receivers]`.
// In another project, import from 'shoal' instead of '../src/index.js'.
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createShoal, isShoalError } from '../src/index.js'
import type { Shoal } from '../src/index.js'

const sizeMiB = Number(process.argv[2] ?? 8)
const receiverCount = Number(process.argv[3] ?? 2)
const work = await mkdtemp(join(tmpdir(), 'shoal-example-'))
const nodes: Shoal[] = []
// Every node listens on loopback with its own data dir (identity key, download state).
const node = (name: string, bootstrap: string[] = []): Shoal => {
  const n = createShoal({ dataDir: join(work, name), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, logTag: name })
  nodes.push(n)
  return n
}
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

try {
  const file = join(work, 'payload.bin')
  const original = randomBytes(sizeMiB * 1024 * 1024)
  await writeFile(file, original)

  // A bootstrap node holds no content; it only introduces the others to each other (DHT, gossip).
  const bootstrap = node('bootstrap')
  await bootstrap.start()
  console.log(`bootstrap ${bootstrap.multiaddrs[0]}`)

  const seeder = node('seeder', bootstrap.multiaddrs)
  await seeder.start()
  const { cid, chunks } = await seeder.seed(file)
  console.log(`seeding ${cid} (${chunks} chunks)`)

  const receivers = Array.from({ length: receiverCount }, (_, i) => node(`receiver-${i + 1}`, bootstrap.multiaddrs))
  await Promise.all(receivers.map(async r => { await r.start() }))
  receivers[0]?.addEventListener('peer', ({ detail: { peerId, connected } }) => { console.log(`receiver-1 ${connected ? 'connected to' : 'lost'} ${peerId}`) })

  const results = await Promise.all(receivers.map(async (r, i) => await r.get(cid, {
    out: join(work, `out-${i + 1}`),
    signal: AbortSignal.timeout(120_000),
    onProgress: p => { console.log(`receiver-${i + 1} ${p.have}/${p.total} chunks, ${p.peers} peer(s)`) }
  })))
  for (const [i, result] of results.entries()) {
    const same = sha256(await readFile(result.path)) === sha256(original)
    console.log(`receiver-${i + 1} wrote ${result.path} in ${result.elapsedMs} ms: ${same ? 'identical' : 'DIFFERENT'}`)
    if (!same) process.exitCode = 1
  }
  const status = await seeder.status()
  console.log(`seeder uploaded ${(status.uploadedBytes / original.length).toFixed(2)} x the file size`)
  if (process.exitCode === undefined) console.log('all copies verified')
} catch (err) {
  console.error(isShoalError(err) ? `${err.code}: ${err.message}` : err)
  process.exitCode = 1
} finally {
  await Promise.allSettled(nodes.map(async n => { await n.stop() }))
  await rm(work, { recursive: true, force: true })
}
