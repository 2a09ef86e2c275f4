import type { ContentLayout } from './content-layout.js'

/**
 * The description of one piece of content: what its CID names. A single file is a one-entry manifest
 * whose path is the file's base name.
 */
export interface Manifest extends ContentLayout {
  version: 1
  /** Human-facing name (a single path segment), used as the default output name. */
  name: string
  /** Total bytes over all files. */
  size: number
}
