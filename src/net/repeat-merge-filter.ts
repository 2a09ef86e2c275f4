import type { AbortOptions, Peer, PeerData, PeerId, PeerStore } from '@libp2p/interface'
import { REPEAT_MERGE_MAX_PEERS, REPEAT_MERGE_TTL_MS } from './constants.js'

export interface RepeatMergeFilterOptions {
  /** How long a peer's record, as the last write left it, answers repeats. */
  ttlMs?: number
  /** Peers remembered at most (the oldest is forgotten first). */
  maxPeers?: number
  now?: () => number
}

/**
 * A peer's record as the store's last write for it returned. Every write deletes the peer's entry
 * when it starts, so an entry that exists is the latest write's and nothing has changed it since.
 */
interface Known {
  protocols: Set<string>
  addrs: Set<string>
  peer: Peer
  at: number
}

/**
 * Makes `peerStore.merge` return at once when the merge could change nothing: it brings only
 * protocols and multiaddrs, each already in the record as the last write for that peer returned it,
 * that write less than `ttlMs` ago, and no write for the peer started since.
 *
 * libp2p merges into the peer store on every negotiated stream (the stream's protocol), every DHT
 * response (the addresses of each peer it names) and every discovery event. Each merge takes the
 * peer's write lock, decodes its record, rebuilds it, encodes it and stores it again, changed or not:
 * 11% of a receiver's busy time in a 10-node loopback swarm (4 MiB, `bench-cpu.js --prof`), and three
 * merges in four were repeats.
 *
 * A skipped merge does not refresh the record's `updated` time, which the store's expiry reads. The
 * TTL bounds that: a peer merged again and again is written at least once per TTL, far inside the
 * store's expiry (hours). Every write through the store's API (merge, patch, save, delete, a consumed
 * peer record) counts as a write, so a record is never answered from after anything changed it.
 */
export function filterRepeatMerges (peerStore: PeerStore, options: RepeatMergeFilterOptions = {}): void {
  const ttlMs = options.ttlMs ?? REPEAT_MERGE_TTL_MS
  const maxPeers = options.maxPeers ?? REPEAT_MERGE_MAX_PEERS
  const now = options.now ?? Date.now
  const known = new Map<string, Known>()
  /** Per peer, the number of the last write started, so a write that another overlapped is not remembered. */
  const writes = new Map<string, number>()
  let epoch = 0
  let serial = 0
  const begin = (key: string): number => {
    const n = ++serial
    writes.set(key, n)
    if (writes.size > maxPeers) writes.delete(writes.keys().next().value as string)
    return n
  }
  const remember = (key: string, write: number, started: number, peer: Peer): void => {
    // another write for this peer (or a peer record) started meanwhile: the next write remembers
    if (writes.get(key) !== write || started !== epoch) return
    known.delete(key)
    if (known.size >= maxPeers) known.delete(known.keys().next().value as string)
    known.set(key, {
      protocols: new Set(peer.protocols),
      addrs: new Set(peer.addresses.map(a => a.multiaddr.toString())),
      peer,
      at: now()
    })
  }

  /** Runs a write of `id`'s record and remembers its result unless another write overlapped it. */
  const write = async (id: PeerId, op: () => Promise<Peer>): Promise<Peer> => {
    const key = id.toString()
    const n = begin(key)
    const started = epoch
    known.delete(key)
    const peer = await op()
    remember(key, n, started, peer)
    return peer
  }

  const merge = peerStore.merge.bind(peerStore)
  peerStore.merge = async (id: PeerId, data: PeerData, opts?: AbortOptions): Promise<Peer> => {
    const key = id.toString()
    const entry = known.get(key)
    if (entry !== undefined && now() - entry.at < ttlMs && !adds(entry, key, data)) return entry.peer
    return await write(id, async () => await merge(id, data, opts))
  }
  const patch = peerStore.patch.bind(peerStore)
  peerStore.patch = async (id: PeerId, data: PeerData, opts?: AbortOptions): Promise<Peer> => await write(id, async () => await patch(id, data, opts))
  const save = peerStore.save.bind(peerStore)
  peerStore.save = async (id: PeerId, data: PeerData, opts?: AbortOptions): Promise<Peer> => await write(id, async () => await save(id, data, opts))
  const remove = peerStore.delete.bind(peerStore)
  peerStore.delete = async (id: PeerId, opts?: AbortOptions): Promise<void> => {
    const key = id.toString()
    begin(key)
    known.delete(key)
    await remove(id, opts)
  }
  // it may write any peer's record: everything known is forgotten and nothing in flight is kept
  const consume = peerStore.consumePeerRecord.bind(peerStore) as (...args: unknown[]) => Promise<boolean>
  ;(peerStore as { consumePeerRecord: (...args: unknown[]) => Promise<boolean> }).consumePeerRecord = async (...args: unknown[]) => {
    epoch++
    known.clear()
    try {
      return await consume(...args)
    } finally {
      epoch++
      known.clear()
    }
  }
}

/** True unless `data` is only protocols and multiaddrs that `entry` has (an address may end in the peer's /p2p/ id). */
function adds (entry: Known, key: string, data: PeerData): boolean {
  for (const [field, value] of Object.entries(data)) {
    if (value !== undefined && field !== 'protocols' && field !== 'multiaddrs') return true
  }
  for (const protocol of data.protocols ?? []) if (!entry.protocols.has(protocol)) return true
  const suffix = `/p2p/${key}`
  for (const addr of data.multiaddrs ?? []) {
    const text = addr.toString()
    if (!entry.addrs.has(text.endsWith(suffix) ? text.slice(0, -suffix.length) : text)) return true
  }
  return false
}
