/**
 * Entry script: download one URL to a file, verify its sha256, print one JSON line
 * {"bytes", "ms", "sha256"} (exit 0) or {"error"} (exit 1).
 *
 *   node http-fetch-client.js --url <url> --out <path> [--sha256 <hex>] [--timeout-ms 120000]
 */
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { get } from 'node:http'
import type { IncomingMessage } from 'node:http'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    out: { type: 'string' },
    sha256: { type: 'string' },
    'timeout-ms': { type: 'string', default: '120000' }
  }
})
if (values.url === undefined || values.out === undefined) {
  console.error('usage: http-fetch-client --url <url> --out <path> [--sha256 <hex>] [--timeout-ms N]')
  process.exit(2)
}
const url = values.url
const out = values.out
const signal = AbortSignal.timeout(Number(values['timeout-ms']))

async function download (): Promise<{ bytes: number, ms: number, sha256: string }> {
  const start = performance.now()
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    get(url, { signal }, resolve).once('error', reject)
  })
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode} from ${url}`)
  const hash = createHash('sha256')
  let bytes = 0
  const tap = new Transform({
    transform (chunk: Buffer, _enc, done) {
      hash.update(chunk)
      bytes += chunk.length
      done(null, chunk)
    }
  })
  await pipeline(res, tap, createWriteStream(out), { signal })
  return { bytes, ms: performance.now() - start, sha256: hash.digest('hex') }
}

try {
  const result = await download()
  if (values.sha256 !== undefined && result.sha256 !== values.sha256.toLowerCase()) {
    throw new Error(`sha256 mismatch: got ${result.sha256}, expected ${values.sha256}`)
  }
  console.log(JSON.stringify(result))
} catch (err) {
  console.log(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }))
  process.exit(1)
}
