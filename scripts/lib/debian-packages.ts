import { execFileSync, spawnSync } from 'node:child_process'

/** apt-get update + install of a few small packages; generous because the mirror may be slow. */
const APT_TIMEOUT_MS = 300_000

/** A program the bench needs and the Debian package that ships it. */
export interface NeededTool {
  command: string
  pkg: string
}

/** Whether `command` is on PATH (`command -v` in a POSIX shell, so builtins and aliases do not count). */
export function hasCommand (command: string): boolean {
  // "$0" is the name: nothing is interpolated into the script text
  return spawnSync('sh', ['-c', 'command -v "$0" >/dev/null', command], { stdio: 'ignore' }).status === 0
}

let aptUpdated = false

/**
 * Installs Debian packages with apt-get (as root, noninteractive, no recommends), refreshing the
 * package lists once per process first (on a fresh machine an install without them finds nothing).
 * Returns why it could not, or undefined. The one installer of the project's tests and benchmarks.
 */
export function aptInstall (pkgs: string[]): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'not root, so not installing'
  if (!hasCommand('apt-get')) return 'no apt-get here'
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  if (!aptUpdated) {
    aptUpdated = true
    // a failed refresh is not fatal: the install below may still find the package in older lists
    spawnSync('apt-get', ['update', '-qq'], { env, timeout: APT_TIMEOUT_MS, stdio: 'ignore' })
  }
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env, timeout: APT_TIMEOUT_MS, maxBuffer: 16 << 20, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim()
    return `apt-get failed: ${(stderr !== '' ? stderr : String(err)).split('\n').slice(-3).join(' | ')}`
  }
  return undefined
}

/**
 * Makes every tool available, installing the missing ones' Debian packages when running as root;
 * returns why it cannot (so the caller skips that variant and says why), or undefined when every
 * tool is there.
 */
export function ensureDebianTools (tools: NeededTool[]): string | undefined {
  const missing = tools.filter(tool => !hasCommand(tool.command))
  if (missing.length === 0) return undefined
  const pkgs = [...new Set(missing.map(t => t.pkg))]
  const what = `${missing.map(t => t.command).join(', ')} missing (Debian: apt-get install ${pkgs.join(' ')})`
  const failed = aptInstall(pkgs)
  if (failed !== undefined) return `${what}; ${failed}`
  const still = missing.find(tool => !hasCommand(tool.command))
  return still === undefined ? undefined : `${what}; still no ${still.command} after installing ${still.pkg}`
}
