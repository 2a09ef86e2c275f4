import type { Manifest } from './manifest.js'

// Built once per manifest object: a data plane request names a file by path, and a folder content
// may hold many thousands of files.
const INDEXES = new WeakMap<Manifest, Map<string, number>>()

/** Index in `manifest.files` of the file at `path` (as written in the manifest), if there is one. */
export function findFile (manifest: Manifest, path: string): number | undefined {
  let index = INDEXES.get(manifest)
  if (index === undefined) {
    index = new Map(manifest.files.map((file, i) => [file.path, i]))
    INDEXES.set(manifest, index)
  }
  return index.get(path)
}
