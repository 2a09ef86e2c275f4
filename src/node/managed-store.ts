import { join } from 'node:path'

/**
 * Folder of the data dir where a node keeps content it fetched for itself rather than for a user's
 * `-o` folder: daemon fetches with no output folder, the HTTP data plane and the registry mirror. The
 * cache may evict what lives here; it never deletes a user's files.
 */
export const MANAGED_STORE_DIR = 'store'

/** Output folder of one managed content: `<dataDir>/store/<cid>`, so two contents' names never clash. */
export function managedOutOf (dataDir: string, cid: string): string {
  return join(dataDir, MANAGED_STORE_DIR, cid)
}
