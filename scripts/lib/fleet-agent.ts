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
 * Times are wall-clock epoch ms, taken as the daemon's events arrive (ControlClient.get reads
 * GET /v1/events, nothing is polled). Errors are {"type":"error","message":...}.
 *
 *   node fleet-agent.js --api 127.0.0.1:7070 --data-dir <the daemon's data dir>
 */
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { ControlClient } from '../../src/api/control-client.js'

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
  let first = false
  // client.get waits on the daemon's event stream: the first durable chunk comes as a progress
  // event (at most the store's FLUSH_INTERVAL_MS after it was verified), the end as it happens
  const result = await client.get(cid, {
    out,
    signal,
    onProgress: p => {
      if (first || p.have === 0) return
      first = true
      emit({ type: 'first', at: Date.now() })
    }
  })
  const at = Date.now()
  if (!first) emit({ type: 'first', at })
  emit({ type: 'done', at, path: result.path })
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
