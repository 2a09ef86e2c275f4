import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** apt-get update + install of a few small packages; generous because the mirror may be slow. */
const APT_TIMEOUT_MS = 300_000

/** A program the bench needs and the Debian package that ships it. */
export interface NeededTool {
  command: string
  pkg: string
}

/** Whether `command` is on PATH (`command -v` in a POSIX shell, so builtins and aliases do not count). */
export async function hasCommand (command: string): Promise<boolean> {
  try {
    // "$0" is the name: nothing is interpolated into the script text
    await execFileAsync('sh', ['-c', 'command -v "$0" >/dev/null', command])
    return true
  } catch {
    return false
  }
}

/**
 * Makes every tool available, installing the missing ones' Debian packages with apt-get when
 * running as root; resolves with why it cannot (so the caller skips that variant and says why), or
 * undefined when every tool is there.
 */
export async function ensureDebianTools (tools: NeededTool[]): Promise<string | undefined> {
  const missing: NeededTool[] = []
  for (const tool of tools) if (!(await hasCommand(tool.command))) missing.push(tool)
  if (missing.length === 0) return undefined
  const pkgs = [...new Set(missing.map(t => t.pkg))]
  const what = `${missing.map(t => t.command).join(', ')} missing (Debian: apt-get install ${pkgs.join(' ')})`
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return `${what}; not root, so not installing`
  if (!(await hasCommand('apt-get'))) return `${what}; no apt-get here`
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  try {
    // the package lists may be absent or stale on a fresh machine: an install without them finds nothing
    await execFileAsync('apt-get', ['update', '-qq'], { env, timeout: APT_TIMEOUT_MS, maxBuffer: 16 << 20 })
    await execFileAsync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env, timeout: APT_TIMEOUT_MS, maxBuffer: 16 << 20 })
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim() ?? ''
    return `${what}; apt-get failed: ${(stderr !== '' ? stderr : String(err)).split('\n').slice(-3).join(' | ')}`
  }
  for (const tool of missing) {
    if (!(await hasCommand(tool.command))) return `${what}; still no ${tool.command} after installing ${tool.pkg}`
  }
  return undefined
}
