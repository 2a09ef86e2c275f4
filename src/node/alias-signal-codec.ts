import { CID } from 'multiformats/cid'
import { ShoalError } from '../util/shoal-error.js'

/** Version byte of every alias signal; others are ignored. */
const VERSION = 1
const KINDS = ['want', 'claim', 'have', 'drop'] as const
/** Longest CID accepted in a signal (bytes): a CIDv1 with a sha2-256 multihash is 36. */
const MAX_CID_BYTES = 80

/**
 * One signal about an alias: a node wants it, claims it (fetches it from elsewhere, `bytes` so
 * far), has it (as content `cid`), or dropped its claim.
 */
export type AliasSignal =
  | { kind: 'want' | 'drop', alias: CID }
  | { kind: 'claim', alias: CID, bytes: number }
  | { kind: 'have', alias: CID, cid: CID }

/** `[version][kind][alias length][alias][payload]`; the payload is a float64 byte count or a CID. */
export function encodeAliasSignal (signal: AliasSignal): Uint8Array {
  const alias = signal.alias.bytes
  const payload = signal.kind === 'claim' ? float64(signal.bytes) : signal.kind === 'have' ? signal.cid.bytes : new Uint8Array(0)
  const out = new Uint8Array(3 + alias.length + payload.length)
  out[0] = VERSION
  out[1] = KINDS.indexOf(signal.kind)
  out[2] = alias.length
  out.set(alias, 3)
  out.set(payload, 3 + alias.length)
  return out
}

/** Decodes a signal from an untrusted peer; throws ERR_BAD_ANNOUNCE on anything malformed. */
export function decodeAliasSignal (data: Uint8Array): AliasSignal {
  if (data.length < 3 || data[0] !== VERSION) throw bad('unknown version')
  const kind = KINDS[data[1]!]
  const length = data[2]!
  if (kind === undefined || length === 0 || length > MAX_CID_BYTES || data.length < 3 + length) throw bad('bad header')
  const alias = cidOf(data.subarray(3, 3 + length))
  const payload = data.subarray(3 + length)
  switch (kind) {
    case 'want':
    case 'drop':
      if (payload.length !== 0) throw bad(`${kind} carries no payload`)
      return { kind, alias }
    case 'claim': {
      if (payload.length !== 8) throw bad('claim carries 8 bytes')
      const bytes = new DataView(payload.buffer, payload.byteOffset, 8).getFloat64(0)
      if (!Number.isSafeInteger(bytes) || bytes < 0) throw bad('bad byte count')
      return { kind, alias, bytes }
    }
    case 'have':
      if (payload.length === 0 || payload.length > MAX_CID_BYTES) throw bad('bad content CID')
      return { kind, alias, cid: cidOf(payload) }
  }
}

function cidOf (bytes: Uint8Array): CID {
  try {
    const cid = CID.decode(bytes)
    if (cid.version !== 1) throw new Error('not CIDv1')
    return cid
  } catch (err) {
    throw bad(`bad CID (${(err as Error).message})`)
  }
}

function float64 (value: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setFloat64(0, value)
  return out
}

function bad (why: string): ShoalError {
  return new ShoalError('ERR_BAD_ANNOUNCE', `malformed alias signal: ${why}`)
}
