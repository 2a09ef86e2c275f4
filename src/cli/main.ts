#!/usr/bin/env -S node --max-semi-space-size=4
// The `shoal` command. Kept free of libp2p imports at the top so that an old Node.js gets a clear
// message instead of a crash deep inside a dependency.
//
// The shebang caps V8's young generation at 4 MiB per semi-space: a download allocates a steady
// stream of short-lived buffers, and with the default cap V8 grows new space by ~60 MiB of RSS for no
// gain in speed (peak RSS of a 768 MiB `shoal get`: 225 MB default, 192 MB capped; same time).
// Scripts that start the CLI with an explicit `node` read these flags from this line
// (scripts/lib/shoal-process.ts, docker/entrypoint.sh) so they run it as the installed bin does.
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

// Once the command is done, nothing may keep the process alive: a node whose stop failed half-way
// (full data disk, a peer that never closes) can leave a listener or a socket open. This timer is
// unref'd, so a clean exit is not delayed; it only fires when something else holds the loop.
const EXIT_GRACE_MS = 5_000

// Compiling the ~900 modules of libp2p and its dependencies was ~0.17 CPU-s of every start (of
// ~0.55 CPU-s to import the `get` command); V8's code cache skips that after the first run. It lives
// in the user's own cache directory, not Node's default under the shared /tmp, because a code cache
// is executable input that another local user must not be able to plant. NODE_COMPILE_CACHE
// overrides the place and NODE_DISABLE_COMPILE_CACHE=1 turns it off; a cache that cannot be written
// (read-only home) only costs the compile.
const { enableCompileCache } = await import('node:module')
const { homedir } = await import('node:os')
const { join } = await import('node:path')
enableCompileCache?.(join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'shoal', 'compile-cache'))

const { runCli } = await import('./run-cli.js')
const exitCode = await runCli(process.argv)
process.exitCode = exitCode
setTimeout(() => {
  process.stderr.write(`shoal: something was still running ${EXIT_GRACE_MS / 1000} s after the command ended; exiting anyway\n`)
  process.exit(exitCode)
}, EXIT_GRACE_MS).unref()
