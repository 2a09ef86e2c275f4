/** One byte range, both ends inclusive, inside a representation of known size. */
export interface ByteRange {
  start: number
  end: number
}

const SPEC = /^(\d*)-(\d*)$/

/**
 * The range a `Range` header asks of `size` bytes (RFC 9110, section 14): a ByteRange, undefined
 * when the whole representation should be sent (no header, another unit, bad syntax, or several
 * ranges: this server does not send multipart/byteranges, and ignoring Range is always allowed),
 * or 'unsatisfiable' when the one range asked for lies past the end (416).
 */
export function parseRange (header: string, size: number): ByteRange | undefined | 'unsatisfiable' {
  const eq = header.indexOf('=')
  if (eq === -1 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return undefined
  const specs = header.slice(eq + 1).split(',').map(s => s.trim()).filter(s => s !== '')
  if (specs.length !== 1) return undefined
  const match = SPEC.exec(specs[0]!)
  if (match === null) return undefined
  const [, first, last] = match as unknown as [string, string, string]
  if (first === '') {
    if (last === '') return undefined
    // suffix range: the last N bytes
    const length = Number(last)
    if (length === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - length), end: size - 1 }
  }
  const start = Number(first)
  const end = last === '' ? Infinity : Number(last)
  if (end < start) return undefined
  if (start >= size) return 'unsatisfiable'
  return { start, end: Math.min(end, size - 1) }
}
