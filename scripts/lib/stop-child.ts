import type { ChildProcess } from 'node:child_process'

/** How long a child gets to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 5_000

/** Stops a child process: SIGTERM, then SIGKILL after a grace period; resolves once it has exited. */
export async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
  await exited
  clearTimeout(timer)
}
