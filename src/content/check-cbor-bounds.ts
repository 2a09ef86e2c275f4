import { MAX_MANIFEST_BYTE_STRINGS, MAX_MANIFEST_ITEMS, MAX_MANIFEST_NESTING } from './constants.js'
import { ManifestError, ManifestErrorCode } from './manifest-error.js'

/** Limits checkCborBounds enforces; the defaults are the manifest's. */
export interface CborBounds {
  maxNesting: number
  maxItems: number
  maxByteStrings: number
}

const MANIFEST_BOUNDS: CborBounds = {
  maxNesting: MAX_MANIFEST_NESTING,
  maxItems: MAX_MANIFEST_ITEMS,
  maxByteStrings: MAX_MANIFEST_BYTE_STRINGS
}

const MAJOR_BYTES = 2
const MAJOR_TEXT = 3
const MAJOR_ARRAY = 4
const MAJOR_MAP = 5
const MAJOR_TAG = 6

function bad (why: string): never {
  throw new ManifestError(ManifestErrorCode.BAD_MANIFEST, `manifest is not valid dag-cbor: ${why}`)
}

/**
 * Walks the CBOR item headers of `bytes` without building anything and throws ManifestError unless
 * they form exactly one item within `bounds`: nesting depth, item count, byte-string count, every
 * declared length no larger than the bytes left, no tags and no indefinite lengths (a manifest has
 * neither; dag-cbor refuses indefinite lengths anyway). Cost is linear in the item count, with one
 * small array of depth counters, so the decoder that runs next only ever sees input whose heap cost
 * is bounded: 64 MiB of empty maps decoded to 4 GB before this check.
 */
export function checkCborBounds (bytes: Uint8Array, bounds: CborBounds = MANIFEST_BOUNDS): void {
  const length = bytes.length
  // remaining[d] counts the items still owed to the open container at depth d + 1
  const remaining: number[] = []
  let pos = 0
  let items = 0
  let byteStrings = 0
  let sawRoot = false
  while (!sawRoot || remaining.length > 0) {
    if (pos >= length) bad(`truncated at byte ${pos}`)
    const initial = bytes[pos]!
    const major = initial >> 5
    const minor = initial & 0x1f
    let arg: number
    let header: number
    if (minor < 24) {
      arg = minor
      header = 1
    } else if (minor <= 27) {
      header = 1 + (1 << (minor - 24))
      if (pos + header > length) bad(`truncated item header at byte ${pos}`)
      arg = 0
      for (let i = 1; i < header; i++) arg = arg * 256 + bytes[pos + i]!
    } else if (minor === 31) {
      return bad(`indefinite-length item at byte ${pos}`)
    } else {
      return bad(`reserved additional information ${minor} at byte ${pos}`)
    }
    pos += header
    if (++items > bounds.maxItems) {
      throw new ManifestError(ManifestErrorCode.MANIFEST_TOO_LARGE,
        `manifest holds more than ${bounds.maxItems} CBOR items; it cannot be decoded safely`)
    }
    if (remaining.length > 0) remaining[remaining.length - 1]!--
    else sawRoot = true

    if (major === MAJOR_BYTES || major === MAJOR_TEXT) {
      if (major === MAJOR_BYTES && ++byteStrings > bounds.maxByteStrings) {
        throw new ManifestError(ManifestErrorCode.MANIFEST_TOO_LARGE,
          `manifest holds more than ${bounds.maxByteStrings} byte strings; it cannot be decoded safely`)
      }
      if (arg > length - pos) bad(`string of ${arg} bytes at byte ${pos - header} runs past the end`)
      pos += arg
    } else if (major === MAJOR_ARRAY || major === MAJOR_MAP) {
      const children = major === MAJOR_MAP ? arg * 2 : arg
      // every item takes at least one byte, so a longer declaration can only be a lie
      if (children > length - pos) bad(`container declaring ${arg} entries at byte ${pos - header} runs past the end`)
      if (remaining.length >= bounds.maxNesting) bad(`nested deeper than ${bounds.maxNesting} levels at byte ${pos - header}`)
      remaining.push(children)
    } else if (major === MAJOR_TAG) {
      bad(`tag ${arg} at byte ${pos - header}; a manifest carries no tags`)
    }
    while (remaining.length > 0 && remaining[remaining.length - 1] === 0) remaining.pop()
  }
  if (pos !== length) bad(`${length - pos} bytes after the end of the manifest`)
}
