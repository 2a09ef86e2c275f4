import { isShoalError } from '../util/shoal-error.js'
import { chunkCountFor, validateChunkSize } from './chunk-size.js'
import { DIGEST_LENGTH, MANIFEST_VERSION } from './constants.js'
import { ManifestError } from './manifest-error.js'
import { validateManifestPath, validatePathSegment } from './manifest-path.js'
import type { Manifest } from './manifest.js'
import type { StoreFile } from '../store/layout.js'

const MANIFEST_KEYS = new Set(['version', 'name', 'size', 'chunkSize', 'files', 'directories'])
const FILE_KEYS = new Set(['path', 'size', 'chunks'])

function bad (message: string): never {
  throw new ManifestError('ERR_BAD_MANIFEST', `invalid manifest: ${message}`)
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array) && Object.getPrototypeOf(value) === Object.prototype
}

function checkKeys (value: Record<string, unknown>, allowed: Set<string>, where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) bad(`${where} has unknown field ${JSON.stringify(key)}`)
  }
  for (const key of allowed) {
    if (!(key in value)) bad(`${where} is missing field ${JSON.stringify(key)}`)
  }
}

function isSize (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/**
 * Checks that `value` (typically freshly decoded, untrusted) is a well-formed manifest and returns it
 * typed. Unknown fields are rejected: a CID names exact bytes, so anything this version does not
 * understand is a different format, not an extension. Throws ManifestError on the first problem.
 */
export function validateManifest (value: unknown): Manifest {
  if (!isRecord(value)) bad('top level must be a map')
  if (value.version !== MANIFEST_VERSION) {
    throw new ManifestError('ERR_BAD_MANIFEST_VERSION',
      `manifest version ${String(value.version)} is not supported (this shoal reads version ${MANIFEST_VERSION}); upgrade shoal or republish`)
  }
  checkKeys(value, MANIFEST_KEYS, 'manifest')

  if (typeof value.name !== 'string') bad('name must be a string')
  validatePathSegment(value.name, 'manifest name')

  try {
    validateChunkSize(value.chunkSize)
  } catch (err) {
    if (isShoalError(err)) throw new ManifestError(err.code, `invalid manifest: ${err.message}`)
    throw err
  }
  const chunkSize = value.chunkSize
  if (!isSize(value.size)) bad('size must be a non-negative safe integer')
  if (!Array.isArray(value.files)) bad('files must be a list')
  if (!Array.isArray(value.directories)) bad('directories must be a list')

  // Every file path, and every ancestor directory implied by a file or listed directory, so that a
  // name used both as a file and as a directory (or twice) is caught whatever the order.
  const filePaths = new Set<string>()
  const dirPaths = new Set<string>()
  const fileAncestors: string[] = []
  let total = 0

  value.files.forEach((file: unknown, i: number) => {
    const where = `file #${i}`
    if (!isRecord(file)) bad(`${where} must be a map`)
    checkKeys(file, FILE_KEYS, where)
    const segments = validateManifestPath(file.path)
    const path = file.path as string
    if (filePaths.has(path)) bad(`path ${JSON.stringify(path)} appears twice`)
    filePaths.add(path)
    for (let n = 1; n < segments.length; n++) fileAncestors.push(segments.slice(0, n).join('/'))

    if (!isSize(file.size)) bad(`${where} (${JSON.stringify(path)}) size must be a non-negative safe integer`)
    if (!Array.isArray(file.chunks)) bad(`${where} (${JSON.stringify(path)}) chunks must be a list`)
    const expected = chunkCountFor(file.size, chunkSize)
    if (file.chunks.length !== expected) {
      bad(`${where} (${JSON.stringify(path)}) has ${file.chunks.length} chunk digests but its size ${file.size} needs ${expected}`)
    }
    file.chunks.forEach((digest: unknown, c: number) => {
      if (!(digest instanceof Uint8Array) || digest.length !== DIGEST_LENGTH) {
        bad(`${where} (${JSON.stringify(path)}) chunk ${c} digest must be ${DIGEST_LENGTH} bytes`)
      }
    })
    total += file.size
    if (!Number.isSafeInteger(total)) bad('total size overflows')
  })

  value.directories.forEach((dir: unknown, i: number) => {
    let segments: string[]
    try {
      segments = validateManifestPath(dir)
    } catch (err) {
      throw new ManifestError('ERR_BAD_PATH', `directory #${i}: ${(err as Error).message}`)
    }
    const path = dir as string
    if (dirPaths.has(path)) bad(`directory ${JSON.stringify(path)} appears twice`)
    dirPaths.add(path)
    for (let n = 1; n < segments.length; n++) {
      const ancestor = segments.slice(0, n).join('/')
      if (filePaths.has(ancestor)) bad(`directory ${JSON.stringify(path)} lies under file ${JSON.stringify(ancestor)}`)
    }
  })

  for (const ancestor of fileAncestors) {
    if (filePaths.has(ancestor)) bad(`${JSON.stringify(ancestor)} is a file but other files lie under it`)
  }
  for (const dir of dirPaths) {
    if (filePaths.has(dir)) bad(`${JSON.stringify(dir)} is listed both as a file and as a directory`)
  }

  if (total !== value.size) bad(`size ${value.size} does not equal the sum of file sizes ${total}`)

  return {
    version: MANIFEST_VERSION,
    name: value.name,
    size: value.size,
    chunkSize,
    files: value.files as StoreFile[],
    directories: value.directories as string[]
  }
}
