export { ChunkStore } from './chunk-store.js'
export type { ChunkStoreOptions, ChunkWriteOptions, StoreMode } from './chunk-store.js'
/** The store's names for content's layout types, kept for existing importers. */
export type { ContentLayout as StoreLayout, ContentFile as StoreFile } from '../content/index.js'
export { StoreErrorCode } from './store-errors.js'
export { writeFileAtomic, writeJsonAtomic, readJsonIfPresent, fsyncDirectory } from './atomic-file.js'
