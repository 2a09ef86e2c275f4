import { randomInt } from 'node:crypto'

/**
 * Two primes just under 2^16 and bases under 2^15: every step (state x base + char code) stays below
 * 2^31, so V8 keeps it in int32 arithmetic (doubles and fmod with 26-bit primes were 5x slower).
 * The 32-bit pair only filters: a false hit costs one exact lookup.
 */
const P1 = 65_521
const P2 = 65_519
const MAX_BASE = 32_768
const SLASH = 0x2f

/**
 * The file paths of one manifest, answering "is some proper ancestor of this path a file?" in time
 * linear in the path. Each path's prefixes are hashed incrementally (a polynomial hash mod two primes
 * with bases drawn per index, so a peer cannot precompute collisions), and only a hash hit is
 * confirmed by an exact string lookup. Memory is one hash and one string reference per file; the
 * old approach of materialising every ancestor string cost O(depth x length) per path (a 1,000-file,
 * 2,000-level manifest took 38 s and 4 GB).
 */
export class FilePathIndex {
  readonly #paths = new Set<string>()
  readonly #hashes = new Set<number>()
  // `| 0`: randomInt returns a heap double, which kept the hash loop in float arithmetic (7x slower)
  readonly #b1 = randomInt(256, MAX_BASE) | 0
  readonly #b2 = randomInt(256, MAX_BASE) | 0

  /** Adds a file path; false when it was already there. */
  add (path: string): boolean {
    if (this.#paths.has(path)) return false
    this.#paths.add(path)
    this.#hashes.add(walk(path, this.#b1, this.#b2, undefined))
    return true
  }

  /** True when `path` is one of the files. */
  has (path: string): boolean {
    return this.#paths.has(path)
  }

  /** The shortest file that is a proper ancestor of `path` ("a/b" for "a/b/c"), if any. */
  fileAbove (path: string): string | undefined {
    const hits: number[] = []
    walk(path, this.#b1, this.#b2, { hashes: this.#hashes, hits })
    for (const end of hits) {
      const prefix = path.slice(0, end)
      if (this.#paths.has(prefix)) return prefix
    }
    return undefined
  }
}

/**
 * Hashes `text`; with `probe`, also records in `probe.hits` the end of every '/'-bounded prefix whose
 * hash is in `probe.hashes`.
 */
function walk (text: string, b1: number, b2: number, probe: { hashes: Set<number>, hits: number[] } | undefined): number {
  let h1 = 0
  let h2 = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === SLASH && probe !== undefined && probe.hashes.has((h1 << 16) | h2)) probe.hits.push(i)
    h1 = (h1 * b1 + c) % P1
    h2 = (h2 * b2 + c) % P2
  }
  return (h1 << 16) | h2
}
