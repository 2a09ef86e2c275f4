import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StoreLayout } from '../../src/store/index.js'

/** Deterministic pseudo-random bytes: the same (seed, size) always gives the same data. */
export function makeData (seed: string, size: number): Uint8Array {
  const out = new Uint8Array(size)
  let counter = 0
  for (let at = 0; at < size; at += 32) {
    const block = createHash('sha256').update(`${seed}:${counter++}`).digest()
    out.set(block.subarray(0, Math.min(32, size - at)), at)
  }
  return out
}

export interface TestFile {
  path: string
  data: Uint8Array
}

/** Builds a layout by hashing the test data, the way a manifest would. */
export function buildLayout (chunkSize: number, files: TestFile[], directories: string[] = []): StoreLayout {
  return {
    chunkSize,
    directories,
    files: files.map(({ path, data }) => {
      const chunks: Uint8Array[] = []
      for (let at = 0; at < data.length; at += chunkSize) {
        chunks.push(createHash('sha256').update(data.subarray(at, at + chunkSize)).digest())
      }
      return { path, size: data.length, chunks }
    })
  }
}

/** The bytes of every chunk in global order, as a peer would send them. */
export function chunksOf (chunkSize: number, files: TestFile[]): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const { data } of files) {
    for (let at = 0; at < data.length; at += chunkSize) out.push(data.subarray(at, at + chunkSize))
  }
  return out
}

/** Fisher-Yates shuffle of 0..n-1. */
export function shuffledIndexes (n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = order[i]!
    order[i] = order[j]!
    order[j] = t
  }
  return order
}

/** Creates temp dirs and removes them all in `cleanup`. */
export class TempDirs {
  readonly #dirs: string[] = []

  async make (prefix = 'shoal-store-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix))
    this.#dirs.push(dir)
    return dir
  }

  async cleanup (): Promise<void> {
    for (const dir of this.#dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  }
}

/** True when running as root, where permission bits do not stop file access. */
export const isRoot = process.getuid?.() === 0

/** The layout used by the crash tests, shared with the child writer. */
export function crashFiles (): TestFile[] {
  return [
    { path: 'a.bin', data: makeData('crash-a', 200 * 1024 + 17) },
    { path: 'sub/b.bin', data: makeData('crash-b', 96 * 1024) },
    { path: 'sub/c.bin', data: makeData('crash-c', 5000) }
  ]
}
export const CRASH_CHUNK_SIZE = 4096
