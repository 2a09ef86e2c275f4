import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import { OciError } from './oci-error.js'

/** multicodec of raw bytes and of sha2-256 (the alias CID of a blob). */
const RAW_CODE = 0x55
const SHA2_256_CODE = 0x12

/** A blob or manifest digest the mirror handles: only sha256, as every registry writes them. */
export interface OciDigest {
  /** `sha256:<64 hex>` */
  text: string
  hex: string
}

const DIGEST = /^sha256:([a-f0-9]{64})$/
/** Other algorithms of the spec's grammar: well formed, but not one the mirror can check. */
const ANY_DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/
/** The spec's repository name grammar. */
const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/
const MAX_NAME_LENGTH = 255

/** Parses `sha256:<hex>`; throws the spec's DIGEST_INVALID (400) otherwise. */
export function parseDigest (text: string): OciDigest {
  const m = DIGEST.exec(text)
  if (m !== null) return { text, hex: m[1]! }
  if (ANY_DIGEST.test(text)) throw new OciError(400, 'DIGEST_INVALID', `digest "${text}" uses an algorithm this mirror does not check; only sha256 is served`)
  throw new OciError(400, 'DIGEST_INVALID', `"${text}" is not a digest; write sha256:<64 lower-case hex digits>`)
}

/** A manifest reference: a digest, or a tag (which always goes to the upstream). */
export function parseReference (text: string): { digest: OciDigest } | { tag: string } {
  if (text.includes(':')) return { digest: parseDigest(text) }
  if (!TAG.test(text)) throw new OciError(400, 'MANIFEST_INVALID', `"${text}" is neither a tag nor a digest`)
  return { tag: text }
}

/** Checks a repository name against the spec's grammar (NAME_INVALID, 400). */
export function checkName (name: string): string {
  if (name.length > MAX_NAME_LENGTH || !NAME.test(name)) throw new OciError(400, 'NAME_INVALID', `"${name}" is not a valid repository name`)
  return name
}

/**
 * The shoal alias of a digest: CIDv1, raw codec, whose sha2-256 multihash is the digest itself. Any
 * node computes it from the digest alone, so it is what the DHT is asked for.
 */
export function aliasCidOf (digest: OciDigest): string {
  return CID.createV1(RAW_CODE, createDigest(SHA2_256_CODE, Buffer.from(digest.hex, 'hex'))).toString()
}
