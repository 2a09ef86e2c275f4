import { isAbsolute, relative, resolve, sep } from 'node:path'
import { MAX_PATH_BYTES, MAX_PATH_SEGMENTS, MAX_SEGMENT_BYTES } from './constants.js'
import { ManifestError, ManifestErrorCode } from './manifest-error.js'

/**
 * Device names Windows resolves anywhere in a path, whatever the extension ("nul.txt" is NUL):
 * writing to one talks to a device instead of creating a file. Rejected on every platform so a
 * manifest made on Linux can be received on Windows.
 */
const WINDOWS_RESERVED = new Set([
  'CON', 'PRN', 'AUX', 'NUL', 'CONIN$', 'CONOUT$',
  ...Array.from({ length: 10 }, (_, i) => `COM${i}`),
  ...Array.from({ length: 10 }, (_, i) => `LPT${i}`),
  'COM¹', 'COM²', 'COM³', 'LPT¹', 'LPT²', 'LPT³'
])
const MAX_RESERVED_LENGTH = Math.max(...[...WINDOWS_RESERVED].map(name => name.length))

/**
 * Throws ERR_BAD_PATH unless `segment` is one safe path component. Beyond `.`/`..`, separators and NUL,
 * this rejects control characters (they would reach terminals when paths are printed), drive-letter
 * prefixes like `C:` (absolute on Windows) and trailing dots or spaces (Windows strips them, so `a.`
 * and `a` would name the same file there).
 */
export function validatePathSegment (segment: string, what = 'path segment'): void {
  const fail = (why: string): never => {
    throw new ManifestError(ManifestErrorCode.BAD_PATH, `${what} ${JSON.stringify(segment)} is unsafe: ${why}`)
  }
  if (segment === '') fail('it is empty')
  if (segment === '.' || segment === '..') fail('it refers to the current or parent directory')
  if (segment.includes('/') || segment.includes('\\')) fail('it contains a path separator')
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(segment)) fail('it contains a NUL or control character')
  if (/^[A-Za-z]:/.test(segment)) fail('it starts with a Windows drive letter')
  if (/[. ]$/.test(segment)) fail('it ends with a dot or space, which Windows strips')
  const dot = segment.indexOf('.')
  const stem = (dot === -1 ? segment : segment.slice(0, dot)).trimEnd()
  if (stem.length <= MAX_RESERVED_LENGTH && WINDOWS_RESERVED.has(stem.toUpperCase())) fail('it is a reserved device name on Windows')
  // a UTF-16 unit is at most 3 UTF-8 bytes, so short segments need no count
  if (segment.length * 3 > MAX_SEGMENT_BYTES && utf8Length(segment) > MAX_SEGMENT_BYTES) fail(`it is longer than ${MAX_SEGMENT_BYTES} bytes`)
}

/**
 * Throws unless `path` is a safe relative path: '/'-separated, no absolute or empty segments, every
 * segment passing validatePathSegment (ERR_BAD_PATH), at most MAX_PATH_BYTES (ERR_PATH_TOO_LONG) and
 * MAX_PATH_SEGMENTS (ERR_PATH_TOO_DEEP). Returns the path's segments. Cost is linear in the path.
 */
export function validateManifestPath (path: unknown): string[] {
  if (typeof path !== 'string') {
    throw new ManifestError(ManifestErrorCode.BAD_PATH, `manifest path must be a string, got ${typeof path}`)
  }
  if (path === '') throw new ManifestError(ManifestErrorCode.BAD_PATH, 'manifest path is empty')
  if (path.startsWith('/')) {
    throw new ManifestError(ManifestErrorCode.BAD_PATH, `manifest path ${JSON.stringify(path.slice(0, 64))} is absolute; paths must be relative`)
  }
  // Both bounds come before the split so a hostile path costs one scan, not an array of pieces.
  if (utf8Length(path) > MAX_PATH_BYTES) {
    throw new ManifestError(ManifestErrorCode.PATH_TOO_LONG, `manifest path starting ${JSON.stringify(path.slice(0, 64))} is longer than ${MAX_PATH_BYTES} bytes`)
  }
  let depth = 1
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) depth++
  if (depth > MAX_PATH_SEGMENTS) {
    throw new ManifestError(ManifestErrorCode.PATH_TOO_DEEP,
      `manifest path starting ${JSON.stringify(path.slice(0, 64))} has ${depth} segments, more than ${MAX_PATH_SEGMENTS}`)
  }
  const segments = path.split('/')
  for (const segment of segments) {
    try {
      validatePathSegment(segment)
    } catch (err) {
      throw new ManifestError(ManifestErrorCode.BAD_PATH, `manifest path ${JSON.stringify(path)}: ${(err as Error).message}`)
    }
  }
  return segments
}

/** UTF-8 length of `text` without encoding it (a lone surrogate counts 3, as TextEncoder writes U+FFFD). */
export function utf8Length (text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/**
 * Joins a validated manifest path onto `root` and checks the result stays strictly inside it; the
 * store's last line of defence against a path that slipped past validation.
 */
export function safeJoin (root: string, relPath: string): string {
  const segments = validateManifestPath(relPath)
  const base = resolve(root)
  const full = resolve(base, ...segments)
  const rel = relative(base, full)
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new ManifestError(ManifestErrorCode.BAD_PATH, `path ${JSON.stringify(relPath)} resolves outside ${base}`)
  }
  return full
}
