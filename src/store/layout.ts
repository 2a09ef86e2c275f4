/** One file of stored content: its path relative to the content root, its size and its chunk digests. */
export interface StoreFile {
  path: string
  size: number
  /** sha2-256 digest (32 bytes) of every chunk of this file, in order. */
  chunks: Uint8Array[]
}

/**
 * What the store needs to know to place chunks: the chunk size and the files in order. A content
 * manifest satisfies it. Chunks never span files; the global chunk index runs over the files in order.
 */
export interface StoreLayout {
  chunkSize: number
  files: StoreFile[]
  /** Directories (relative paths) to create even when they hold no file. */
  directories: string[]
}
