import { join } from 'node:path'
import { readJsonIfPresent, writeJsonAtomic } from './atomic-file.js'
import { CREATED_FILES_FILE } from './constants.js'

/**
 * Which inode a path was when shoal checked or created it. File systems reuse a freed inode number
 * at once (ext4, tmpfs), so the birth time tells a file deleted and re-created from the original;
 * 0 where the file system does not report one.
 */
export interface FileIdentity {
  dev: number
  ino: number
  birthtimeMs: number
}

/** Stats (or a recorded identity) to the identity compared by `sameFile`. */
export function identityOf (stats: { dev: number, ino: number, birthtimeMs: number }): FileIdentity {
  return { dev: stats.dev, ino: stats.ino, birthtimeMs: stats.birthtimeMs }
}

/** True when `a` and `b` are the same file (birth times compared where both are known). */
export function sameFile (a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && (a.birthtimeMs === 0 || b.birthtimeMs === 0 || a.birthtimeMs === b.birthtimeMs)
}

/**
 * The output files shoal created (or took over with --overwrite) for one content, by absolute path.
 * `null` means announced but not yet created: written before the file, so a kill in between still
 * leaves the file recognisably shoal's.
 */
export interface CreatedFiles {
  files: Record<string, FileIdentity | null>
}

interface CreatedFilesRecord extends CreatedFiles {
  version: 1
  fingerprint: string
}

/** The marker of this layout in `stateDir`; empty when absent, unreadable or of another layout. */
export async function loadCreatedFiles (stateDir: string, fingerprint: string): Promise<CreatedFiles> {
  const record = await readJsonIfPresent(join(stateDir, CREATED_FILES_FILE)) as Partial<CreatedFilesRecord> | undefined
  const files: Record<string, FileIdentity | null> = Object.create(null)
  if (record?.version !== 1 || record.fingerprint !== fingerprint || typeof record.files !== 'object' || record.files === null) return { files }
  for (const [path, identity] of Object.entries(record.files)) {
    if (identity === null) files[path] = null
    else if (typeof identity?.dev === 'number' && typeof identity.ino === 'number') {
      files[path] = { dev: identity.dev, ino: identity.ino, birthtimeMs: typeof identity.birthtimeMs === 'number' ? identity.birthtimeMs : 0 }
    }
  }
  return { files }
}

/** Persists the marker atomically (and durably: it must be on disk before the files it announces). */
export async function saveCreatedFiles (stateDir: string, fingerprint: string, created: CreatedFiles): Promise<void> {
  const record: CreatedFilesRecord = { version: 1, fingerprint, files: created.files }
  await writeJsonAtomic(join(stateDir, CREATED_FILES_FILE), record)
}
