/** 256 KiB: measured best on the 8-receiver swarm bench (docs/benchmarks.md: efficiency 0.59 vs 0.49 at 1 MiB, seeder egress 1.31 vs 1.77); small enough that a fresh chunk spreads fast, large enough that per-chunk overhead stays small. */
export const DEFAULT_CHUNK_SIZE = 256 * 1024

/** Smallest allowed chunk size (64 KiB). */
export const MIN_CHUNK_SIZE = 64 * 1024

/** Largest allowed chunk size (16 MiB); one chunk must fit comfortably in one wire message. */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024

/** Manifest format version this code writes and accepts. */
export const MANIFEST_VERSION = 1

/**
 * Upper bound on an encoded manifest. A chunk digest costs 34 bytes of CBOR, so 64 MiB holds about
 * 1.9 million chunks: ~2 TiB of content at the default 1 MiB chunk size and ~32 TiB at 16 MiB. That
 * covers any fleet payload we target while keeping a hostile manifest's decode cost and the memory
 * it pins bounded (the decoded form is roughly 3x the encoded size).
 */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024

/** Longest path (UTF-8 bytes) a manifest may carry; matches Linux PATH_MAX. */
export const MAX_PATH_BYTES = 4096

/** Longest single path segment (UTF-8 bytes); matches NAME_MAX of common filesystems. */
export const MAX_SEGMENT_BYTES = 255

/** Multicodec code of dag-cbor, the manifest encoding. */
export const DAG_CBOR_CODE = 0x71

/** Multicodec code of sha2-256, the manifest and chunk hash. */
export const SHA2_256_CODE = 0x12

/** Length in bytes of a sha2-256 digest. */
export const DIGEST_LENGTH = 32

/**
 * Smallest read when hashing a file: with 64 KiB chunks, one read per chunk cost a third of the
 * throughput in scripts/bench-content.ts; 4 MiB reads matched the plain-sha256 baseline.
 */
export const HASH_READ_BYTES = 4 * 1024 * 1024
