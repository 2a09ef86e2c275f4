import type { FileHandle } from 'node:fs/promises'
import { verifyChunk } from '../content/index.js'
import type { ChunkLayout } from '../content/index.js'
import type { FileIdentity } from './created-files.js'
import { readFully } from './file-io.js'
import { openCheckedFile } from './output-tree.js'
import { toStoreError } from './store-errors.js'

/**
 * Reads and hashes chunks that were written but not journaled when the store last stopped; returns
 * those whose bytes match the layout, after making their files durable (so they may be journaled).
 */
export async function rehashWritten (layout: ChunkLayout, paths: string[], identities: FileIdentity[], indexes: number[]): Promise<number[]> {
  const byFile = new Map<number, number[]>()
  for (const index of indexes) {
    const { fileIndex } = layout.chunk(index)
    byFile.set(fileIndex, [...(byFile.get(fileIndex) ?? []), index])
  }
  const kept: number[] = []
  for (const [fileIndex, chunks] of byFile) {
    const path = paths[fileIndex]!
    let handle: FileHandle
    try {
      handle = await openCheckedFile(path, identities[fileIndex]!)
    } catch (err) {
      throw toStoreError(err, path, 'write')
    }
    try {
      const good: number[] = []
      for (const index of chunks.sort((a, b) => a - b)) {
        const { offset, length } = layout.chunk(index)
        if (verifyChunk(layout, index, await readFully(handle, length, offset))) good.push(index)
      }
      // the bytes may be only in the page cache after a kill: durable before they are journaled
      if (good.length > 0) await handle.datasync()
      kept.push(...good)
    } catch (err) {
      throw toStoreError(err, path, 'write')
    } finally {
      await handle.close()
    }
  }
  return kept
}
