import { realpath } from 'node:fs/promises'
import { isAbsolute, join, sep } from 'node:path'
import { ShoalError } from '../util/shoal-error.js'
import { ApiErrorCode } from './api-errors.js'

/**
 * Confines the paths the control API reads (POST /v1/contents) and writes (POST /v1/downloads) to
 * the operator's allowed roots, judged on real paths: a symlink inside a root that points outside
 * is refused. The programmatic Shoal API does not use this; its caller already runs with full rights.
 */
export class PathPolicy {
  readonly #roots: string[]

  /** `roots` are absolute folders; `/` allows everything. */
  constructor (roots: string[]) {
    for (const root of roots) {
      if (!isAbsolute(root)) throw new ShoalError('ERR_BAD_CONFIG', `SHOAL_ALLOW_PATHS (--allow-paths): "${root}" is not an absolute folder`)
    }
    this.#roots = [...roots]
  }

  get roots (): readonly string[] { return this.#roots }

  /**
   * Resolves `path` (absolute, or relative to the daemon's working directory) to its real path and
   * returns it when it lies under an allowed root; throws ERR_PATH_NOT_ALLOWED otherwise. A path that
   * does not exist yet is judged by the real path of its nearest existing ancestor plus the missing
   * part, which must not contain `..` (it would be resolved by the kernel later, through links).
   */
  async resolve (path: string): Promise<string> {
    if (path.includes('\0')) throw new ShoalError(ApiErrorCode.BAD_REQUEST, 'a path must not contain NUL')
    const absolute = isAbsolute(path) ? path : `${process.cwd()}${sep}${path}`
    const real = await realPathOfNearest(absolute).catch((err: unknown) => {
      if (err instanceof ShoalError) throw err
      throw new ShoalError('ERR_UNREADABLE', `cannot resolve ${path}: ${(err as Error).message}`, { cause: err })
    })
    for (const root of this.#roots) {
      const realRoot = await realpath(root).catch(() => undefined)
      if (realRoot !== undefined && isInside(real, realRoot)) return real
    }
    throw new ShoalError(ApiErrorCode.PATH_NOT_ALLOWED, `${path} is outside the folders this daemon may read or write (${this.#roots.join(', ')}); the daemon's operator can widen them with SHOAL_ALLOW_PATHS (--allow-paths)`)
  }
}

async function realPathOfNearest (absolute: string): Promise<string> {
  const missing: string[] = []
  let current = absolute
  for (;;) {
    try {
      const real = await realpath(current)
      if (missing.some(s => s === '..')) {
        throw new ShoalError(ApiErrorCode.PATH_NOT_ALLOWED, `${absolute}: ".." after a folder that does not exist yet cannot be checked against SHOAL_ALLOW_PATHS (--allow-paths); write the path without ".."`)
      }
      return missing.length === 0 ? real : join(real, ...missing.reverse())
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err
      const cut = current.replace(/[/\\]+$/, '')
      const at = Math.max(cut.lastIndexOf('/'), cut.lastIndexOf('\\'))
      if (at <= 0) {
        if (cut === '' || at === -1) throw err
        missing.push(cut.slice(at + 1))
        current = cut.slice(0, at + 1)
        continue
      }
      missing.push(cut.slice(at + 1))
      current = cut.slice(0, at)
    }
  }
}

function isInside (path: string, root: string): boolean {
  if (root === sep) return true
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep)
}
