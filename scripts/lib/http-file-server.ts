/**
 * Entry script: a minimal HTTP file server, the client-server baseline of the swarm benchmark.
 * Every GET streams the one file with backpressure (pipeline), whatever the path.
 *
 *   node http-file-server.js --file <path> [--host 0.0.0.0] [--port 8080]
 *
 * Prints one JSON line {"listening": {host, port}} when ready; exits on SIGTERM/SIGINT.
 */
import { createReadStream, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    file: { type: 'string' },
    host: { type: 'string', default: '0.0.0.0' },
    port: { type: 'string', default: '8080' }
  }
})
if (values.file === undefined) {
  console.error('usage: http-file-server --file <path> [--host 0.0.0.0] [--port 8080]')
  process.exit(2)
}
const file = values.file
const size = statSync(file).size

const server = createServer((req, res) => {
  if (req.method !== 'GET') {
    res.writeHead(405).end()
    return
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size })
  pipeline(createReadStream(file), res).catch(() => {
    // A client that goes away mid-transfer is normal in link-down tests; nothing to report.
  })
})

server.listen(Number(values.port), values.host, () => {
  console.log(JSON.stringify({ listening: { host: values.host, port: Number(values.port) } }))
})

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.closeAllConnections()
    server.close(() => process.exit(0))
  })
}
