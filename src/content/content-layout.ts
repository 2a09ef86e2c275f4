/** One file of a content: its path relative to the content root, its size and its chunk digests. */
export interface ContentFile {
  path: string
  size: number
  /** sha2-256 digest (DIGEST_LENGTH bytes) of every chunk of this file, in order. */
  chunks: Uint8Array[]
}

/**
 * Where a content's bytes go: the chunk size and the files in order. A manifest is one; the store
 * places chunks by it. Chunks never span files; the global chunk index runs over the files in order.
 */
export interface ContentLayout {
  chunkSize: number
  files: ContentFile[]
  /** Directories (relative paths) to create even when they hold no file. */
  directories: string[]
}
