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
 * 1.9 million chunks: ~480 GiB of content at the default 256 KiB chunk size and ~30 TiB at 16 MiB.
 * That covers any fleet payload we target while keeping a hostile manifest's decode cost and the
 * memory it pins bounded (measured: 1.9 M digests decode to ~490 MB of heap, ~250 B per digest).
 */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024

/**
 * Deepest container nesting a manifest has: top map > files list > file map > chunks list. Checked
 * on the raw bytes before decoding, so a hostile 64 MiB of nested arrays never reaches the decoder's
 * recursion.
 */
export const MAX_MANIFEST_NESTING = 4

/**
 * Most CBOR data items a manifest may hold, checked on the raw bytes before decoding. A file costs 7
 * items plus one per chunk, so this fits a million one-chunk files. Without it, 64 MiB of one-byte
 * items (empty maps, empty arrays) decoded to 3-4 GB of heap and took 10-40 s (measured), enough to
 * kill the node; at this cap the worst case is ~8.4 M empty maps, ~550 MB.
 */
export const MAX_MANIFEST_ITEMS = 8 * 1024 * 1024

/**
 * Most byte strings a manifest may hold: more than the 32-byte digests that fit in
 * MAX_MANIFEST_BYTES (~1.97 M). Each decoded byte string is its own ArrayBuffer (~250 B of heap
 * measured), so 33 M one-byte strings would need ~8 GB; this caps them where a legitimate manifest
 * tops out anyway (~0.5 GB).
 */
export const MAX_MANIFEST_BYTE_STRINGS = 2 * 1024 * 1024

/** Longest path (UTF-8 bytes) a manifest may carry; matches Linux PATH_MAX. */
export const MAX_PATH_BYTES = 4096

/** Longest single path segment (UTF-8 bytes); matches NAME_MAX of common filesystems. */
export const MAX_SEGMENT_BYTES = 255

/**
 * Most segments (directory levels plus the file name) in one path. Real trees stay far below this
 * (deep node_modules trees reach a few dozen levels); each level is a directory the store creates
 * and the kernel walks on every open, and a 4096-byte path could otherwise hold 2,048 of them.
 */
export const MAX_PATH_SEGMENTS = 256

/**
 * Most UTF-8 bytes of all file and directory paths together: half of MAX_MANIFEST_BYTES, which
 * still fits 500,000 files with 64-byte paths. Validation is linear in these bytes (see
 * validate-manifest.ts); the cap keeps its worst case, and the heap the decoded strings pin, small.
 */
export const MAX_TOTAL_PATH_BYTES = 32 * 1024 * 1024

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
