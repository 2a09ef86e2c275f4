import { isShoalError } from '../util/shoal-error.js'
import { chunkCountFor, validateChunkSize } from './chunk-size.js'
import { DIGEST_LENGTH, MANIFEST_VERSION, MAX_TOTAL_PATH_BYTES } from './constants.js'
import { FilePathIndex } from './file-path-index.js'
import { ManifestError, ManifestErrorCode } from './manifest-error.js'
import { utf8Length, validateManifestPath, validatePathSegment } from './manifest-path.js'
import type { ContentFile } from './content-layout.js'
import type { Manifest } from './manifest.js'

const MANIFEST_KEYS = new Set(['version', 'name', 'size', 'chunkSize', 'files', 'directories'])
const FILE_KEYS = new Set(['path', 'size', 'chunks'])

function bad (message: string): never {
  throw new ManifestError(ManifestErrorCode.BAD_MANIFEST, `invalid manifest: ${message}`)
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
    throw new ManifestError(ManifestErrorCode.BAD_MANIFEST_VERSION,
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

  // Paths are checked in time linear in their bytes: FilePathIndex answers "is an ancestor of this
  // path a file?" without building ancestor strings, so a name used both as a file and as a directory
  // (or twice) is caught whatever the order, at O(length) per path.
  const files = new FilePathIndex()
  const dirPaths = new Set<string>()
  let pathBytes = 0
  const countPathBytes = (path: string): void => {
    pathBytes += utf8Length(path)
    if (pathBytes > MAX_TOTAL_PATH_BYTES) {
      throw new ManifestError(ManifestErrorCode.MANIFEST_PATHS_TOO_LARGE,
        `invalid manifest: its paths add up to more than ${MAX_TOTAL_PATH_BYTES} bytes`)
    }
  }
  let total = 0

  for (let i = 0; i < value.files.length; i++) {
    const file: unknown = value.files[i]
    const where = `file #${i}`
    if (!isRecord(file)) bad(`${where} must be a map`)
    checkKeys(file, FILE_KEYS, where)
    validateManifestPath(file.path)
    const path = file.path as string
    countPathBytes(path)
    if (!files.add(path)) bad(`path ${JSON.stringify(path)} appears twice`)

    if (!isSize(file.size)) bad(`${where} (${JSON.stringify(path)}) size must be a non-negative safe integer`)
    if (!Array.isArray(file.chunks)) bad(`${where} (${JSON.stringify(path)}) chunks must be a list`)
    const expected = chunkCountFor(file.size, chunkSize)
    if (file.chunks.length !== expected) {
      bad(`${where} (${JSON.stringify(path)}) has ${file.chunks.length} chunk digests but its size ${file.size} needs ${expected}`)
    }
    for (let c = 0; c < file.chunks.length; c++) {
      const digest: unknown = file.chunks[c]
      if (!(digest instanceof Uint8Array) || digest.length !== DIGEST_LENGTH) {
        bad(`${where} (${JSON.stringify(path)}) chunk ${c} digest must be ${DIGEST_LENGTH} bytes`)
      }
    }
    total += file.size
    if (!Number.isSafeInteger(total)) bad('total size overflows')
  }

  for (let i = 0; i < value.directories.length; i++) {
    const dir: unknown = value.directories[i]
    try {
      validateManifestPath(dir)
    } catch (err) {
      if (err instanceof ManifestError) throw new ManifestError(err.code, `directory #${i}: ${err.message}`)
      throw err
    }
    const path = dir as string
    countPathBytes(path)
    if (dirPaths.has(path)) bad(`directory ${JSON.stringify(path)} appears twice`)
    dirPaths.add(path)
    const above = files.fileAbove(path)
    if (above !== undefined) bad(`directory ${JSON.stringify(path)} lies under file ${JSON.stringify(above)}`)
  }

  // Only now is every file known, so a file listed after the files under it is caught too.
  for (const file of value.files as Array<{ path: string }>) {
    const above = files.fileAbove(file.path)
    if (above !== undefined) bad(`${JSON.stringify(above)} is a file but other files lie under it`)
  }
  for (const dir of dirPaths) {
    if (files.has(dir)) bad(`${JSON.stringify(dir)} is listed both as a file and as a directory`)
  }

  if (total !== value.size) bad(`size ${value.size} does not equal the sum of file sizes ${total}`)

  return {
    version: MANIFEST_VERSION,
    name: value.name,
    size: value.size,
    chunkSize,
    files: value.files as ContentFile[],
    directories: value.directories as string[]
  }
}
