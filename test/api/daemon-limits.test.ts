// A real `shoal daemon` process under idle-connection flooding and malformed URLs: its descriptors
// stay bounded, its libp2p side keeps working, and it recovers once idle sockets time out.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdir, readFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ControlClient, createShoal } from '../../src/index.js'
import { MAX_API_CONNECTIONS } from '../../src/api/constants.js'
import { killAllShoals, spawnShoal, type ShoalProcess } from '../cli/helpers.js'

const LOOPBACK = '/ip4/127.0.0.1/tcp/0'
const EXTRA_CONNECTIONS = 200

const openDescriptors = async (pid: number): Promise<number> => (await readdir(`/proc/${pid}/fd`)).length

describe('shoal daemon limits', { timeout: 180_000 }, () => {
  let work: string
  let daemon: ShoalProcess
  let api: string
  let multiaddrs: string[]
  const dataDir = (): string => join(work, 'daemon')

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'shoal-limits-'))
    daemon = spawnShoal(['daemon', '--api', '127.0.0.1:0', '--json', '--data-dir', dataDir(), '--listen', LOOPBACK, '--allow-paths', work], { env: { DEBUG: 'shoal:api*' } })
    const ready = await daemon.waitForLine(l => l.type === 'result')
    api = (ready.api as string).replace(/^http:\/\//, '')
    multiaddrs = ready.multiaddrs as string[]
  })

  after(async () => {
    await killAllShoals()
    await rm(work, { recursive: true, force: true })
  })

  it('answers bad %-encoding with 400 ERR_BAD_REQUEST and logs no error', async () => {
    const client = new ControlClient({ address: api, dataDir: dataDir() })
    assert.equal((await client.status()).contents, 0)
    const token = (await readFile(join(dataDir(), 'api.token'), 'utf8')).trim()
    const res = await fetch(`http://${api}/v1/contents/%E0%A4%A`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(res.status, 400)
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'ERR_BAD_REQUEST')
    // unauthenticated: still no 500
    assert.equal((await fetch(`http://${api}/v1/contents/%E0%A4%A`)).status, 401)
    await sleep(200)
    assert.doesNotMatch(daemon.stderr(), /request failed/)
  })

  it(`keeps descriptors bounded with ${EXTRA_CONNECTIONS} more idle connections than the cap, keeps serving peers, and recovers`, async () => {
    const pid = daemon.child.pid!
    const client = new ControlClient({ address: api, dataDir: dataDir() })
    const payload = randomBytes(400_000)
    await writeFile(join(work, 'payload.bin'), payload)
    const { cid } = await client.add(join(work, 'payload.bin'))
    const baseline = await openDescriptors(pid)

    const [host, port] = [api.slice(0, api.lastIndexOf(':')), Number(api.slice(api.lastIndexOf(':') + 1))]
    const sockets: Socket[] = []
    try {
      await Promise.all(Array.from({ length: MAX_API_CONNECTIONS + EXTRA_CONNECTIONS }, async () => {
        const s = connect(port, host)
        s.on('error', () => {})
        sockets.push(s)
        await new Promise<void>(resolve => {
          const timer = setTimeout(resolve, 5000)
          s.once('connect', () => { clearTimeout(timer); resolve() })
          s.once('close', () => { clearTimeout(timer); resolve() })
        })
      }))
      await sleep(500)
      const flooded = await openDescriptors(pid)
      const stillOpen = sockets.filter(s => !s.destroyed && s.readyState === 'open').length
      console.log(`daemon descriptors: ${baseline} before, ${flooded} with ${sockets.length} idle connections (${stillOpen} still open on the client side; cap ${MAX_API_CONNECTIONS})`)
      // structural bound: the cap plus a generous margin for libp2p's own sockets and timers
      assert.ok(flooded <= baseline + MAX_API_CONNECTIONS + 64, `descriptors ${flooded} stay under ${baseline} + ${MAX_API_CONNECTIONS} + 64`)

      // the libp2p side still works: a peer fetches the content while the API is flooded
      const peer = createShoal({ dataDir: join(work, 'peer'), listen: [LOOPBACK], bootstrap: multiaddrs })
      await peer.start()
      try {
        const got = await peer.get(cid, { out: join(work, 'out'), signal: AbortSignal.timeout(60_000) })
        assert.deepEqual(await readFile(got.path), payload)
      } finally {
        await peer.stop()
      }
      // the flood is still held open by this side: the daemon's idle timeout closes every socket,
      // then a normal authenticated request works
      for (let i = 0; i < 60 && sockets.some(s => !s.destroyed); i++) await sleep(500)
      assert.equal(sockets.filter(s => !s.destroyed).length, 0, 'the daemon closed every idle connection')
      const status = await client.status()
      assert.equal(status.contents, 1)
    } finally {
      for (const s of sockets) s.destroy()
    }
    console.log(`daemon descriptors after recovery: ${await openDescriptors(pid)}`)
  })
})
