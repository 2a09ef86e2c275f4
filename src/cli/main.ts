#!/usr/bin/env node
// The `shoal` command. Kept free of libp2p imports at the top so that an old Node.js gets a clear
// message instead of a crash deep inside a dependency.
const [major] = process.versions.node.split('.').map(Number)
if ((major ?? 0) < 22) {
  process.stderr.write(`shoal: Node.js ${process.versions.node} is too old; shoal needs Node.js 22 or newer (24 recommended). ` +
    'Inside the project, `npx shoal` uses the Node 24 that `npm install` brought.\n')
  process.exit(2)
}

// `shoal ls | head` closes stdout early; that is not an error worth a stack trace
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw err
  })
}

const { runCli } = await import('./run-cli.js')
process.exitCode = await runCli(process.argv)
