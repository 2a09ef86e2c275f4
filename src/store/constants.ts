/** How long a verified write may wait before its chunk is made durable and journaled (group commit). */
export const FLUSH_INTERVAL_MS = 200

/** A flush starts early once this many chunks wait for it, so one flush never covers too much data. */
export const FLUSH_EVERY_CHUNKS = 64

/** Open file handles kept per store; thousands of files must not exhaust file descriptors. */
export const MAX_OPEN_FILES = 64

/** The journal is folded into a snapshot once it holds at least this many records... */
export const JOURNAL_COMPACT_MIN_RECORDS = 4096

/** ...and more record bytes than the snapshot's bitfield would take times this factor. */
export const JOURNAL_COMPACT_FACTOR = 4

/** Largest number of chunks one layout may have; journal records store the index as a uint32. */
export const MAX_CHUNKS = 0xffffffff

/** File names inside the state directory. */
export const HAVE_JOURNAL_FILE = 'have.journal'
export const HAVE_SNAPSHOT_FILE = 'have.snapshot'
export const SEED_SOURCES_FILE = 'seed-sources.json'
/** Output files this store created, with their inodes: what resume may reopen without --overwrite. */
export const CREATED_FILES_FILE = 'created-files.json'
/** Chunks written but perhaps not journaled, re-hashed on the next open instead of fetched again. */
export const WRITTEN_HINTS_FILE = 'written.hints'

/** First bytes of the state files, so a foreign or older-format file is never trusted. */
export const JOURNAL_MAGIC = 'SHOALHJ1'
export const SNAPSHOT_MAGIC = 'SHOALHS1'

/** Bytes of the layout fingerprint stored in state-file headers. */
export const FINGERPRINT_LENGTH = 24

/** A journal record: uint32 chunk index + uint32 CRC-32 seeded with the layout fingerprint. */
export const JOURNAL_RECORD_LENGTH = 8
