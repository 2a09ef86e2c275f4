import { CID } from 'multiformats/cid'
import { checkManifestCid } from './manifest-codec.js'
import { ManifestError } from './manifest-error.js'

/** Parses a content ID as printed by shoal (base32 `bafy…`); throws ERR_BAD_CID with the reason. */
export function parseCid (text: string): CID {
  if (typeof text !== 'string' || text.length === 0) {
    throw new ManifestError('ERR_BAD_CID', 'content ID is empty; pass the bafy… ID printed when the content was added')
  }
  let cid: CID
  try {
    cid = CID.parse(text)
  } catch (err) {
    throw new ManifestError('ERR_BAD_CID',
      `${JSON.stringify(text.slice(0, 100))} is not a valid content ID (${(err as Error)?.message ?? String(err)}); pass the bafy… ID printed when the content was added`)
  }
  checkManifestCid(cid)
  return cid
}
