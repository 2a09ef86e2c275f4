/**
 * The bench's hand inside one testbed host for the warm (fleet) mode: the daemon's control API
 * listens on loopback inside the host's namespace, which the bench process cannot reach, so this
 * small process (no libp2p) runs beside the daemon and relays commands from stdin:
 *
 *   {"op":"status"}                   -> {"type":"status","peers":n}
 *   {"op":"add","path":"/abs/file"}   -> {"type":"added","cid":"bafy...","size":n,"chunks":n,"at":<epoch ms>}
 *   {"op":"get","cid":"bafy...","out":"/abs/dir"}
 *                                     -> {"type":"first","at":...} at the first verified chunk,
 *                                        {"type":"done","at":...,"path":"..."} once complete
 *
 * Times are wall-clock epoch ms, read right after the API answered; the content is polled every
 * POLL_MS, so a time is at most that late. Errors are {"type":"error","message":...}.
 *
 *   node fleet-agent.js --api 127.0.0.1:7070 --data-dir <the daemon's data dir>
 */
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { ControlClient } from '../../src/api/control-client.js'

/** Poll interval while a download runs: 8 agents at 10/s cost the daemons far less than 1% of a core. */
const POLL_MS = 100
const GET_TIMEOUT_MS = 600_000

const { values } = parseArgs({ options: { api: { type: 'string' }, 'data-dir': { type: 'string' } } })
if (values.api === undefined || values['data-dir'] === undefined) {
  process.stderr.write('usage: fleet-agent --api <host:port> --data-dir <dir>\n')
  process.exit(2)
}
const client = new ControlClient({ address: values.api, dataDir: values['data-dir'] })

function emit (event: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(event) + '\n')
}

async function get (cid: string, out: string): Promise<void> {
  const signal = AbortSignal.timeout(GET_TIMEOUT_MS)
  // ControlClient.get starts the download and polls at its own pace; the times come from the faster poll below
  const started = client.get(cid, { out, signal })
  started.catch(() => {})
  let first = false
  for (;;) {
    const info = (await client.ls()).find(c => c.cid === cid)
    const at = Date.now()
    if (info?.state === 'error') throw new Error(`${info.errorCode ?? ''} ${info.error ?? 'download failed'}`)
    // verified bytes, not `have` (durable chunks, which waits for the store's group commit)
    if (info !== undefined && !first && (info.downloadedBytes > 0 || info.have > 0)) {
      first = true
      emit({ type: 'first', at })
    }
    if (info !== undefined && (info.state === 'complete' || info.state === 'seeding')) {
      emit({ type: 'done', at, path: info.path })
      return
    }
    await sleep(POLL_MS, undefined, { signal })
  }
}

async function handle (line: string): Promise<void> {
  const cmd = JSON.parse(line) as { op: string, path?: string, cid?: string, out?: string }
  if (cmd.op === 'status') {
    emit({ type: 'status', peers: (await client.status()).peers })
  } else if (cmd.op === 'add' && cmd.path !== undefined) {
    const added = await client.add(cmd.path)
    emit({ type: 'added', at: Date.now(), cid: added.cid, size: added.size, chunks: added.chunks })
  } else if (cmd.op === 'get' && cmd.cid !== undefined && cmd.out !== undefined) {
    await get(cmd.cid, cmd.out)
  } else {
    throw new Error(`unknown command ${line}`)
  }
}

emit({ type: 'ready' })
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue
  handle(line).catch((err: unknown) => { emit({ type: 'error', message: err instanceof Error ? err.message : String(err) }) })
}
