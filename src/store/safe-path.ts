import { isAbsolute, relative, resolve, sep } from 'node:path'
import { ShoalError } from '../util/shoal-error.js'
import { StoreErrorCode } from './store-errors.js'

/**
 * Joins a relative path from a layout onto `root` and proves the result stays inside `root`. The
 * manifest layer validates paths too; this is the last line of defence before a write.
 */
export function resolveInside (root: string, relativePath: string): string {
  const fail = (why: string): never => {
    throw new ShoalError(StoreErrorCode.UNSAFE_PATH, `refusing path ${JSON.stringify(relativePath)}: ${why}`)
  }
  if (relativePath.length === 0) fail('it is empty')
  if (relativePath.includes('\0')) fail('it contains a NUL byte')
  if (isAbsolute(relativePath) || relativePath.startsWith('\\')) fail('it is absolute')
  for (const segment of relativePath.split(/[/\\]/)) {
    if (segment === '' || segment === '.' || segment === '..') fail(`it has a "${segment}" segment`)
  }
  const base = resolve(root)
  const full = resolve(base, relativePath)
  const rel = relative(base, full)
  if (rel === '' || isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) fail(`it leads outside ${base}`)
  return full
}
