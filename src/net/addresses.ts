import type { AnnounceFilter } from './node-config.js'
import type { PeerInfo } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

type Scope = 'loopback' | 'private' | 'public'

/** Classifies the host part of a multiaddr; DNS names count as public. */
export function addressScope (ma: Multiaddr): Scope {
  const first = ma.getComponents()[0]
  if (first == null || first.value == null) return 'public'
  const host = first.value
  if (first.name === 'ip4') {
    const [a = 0, b = 0] = host.split('.').map(Number)
    if (a === 127) return 'loopback'
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) ||
        (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127) || a === 0) return 'private'
    return 'public'
  }
  if (first.name === 'ip6') {
    const h = host.toLowerCase()
    if (h === '::1') return 'loopback'
    if (h.startsWith('fc') || h.startsWith('fd') || h.startsWith('fe80') || h === '::') return 'private'
    return 'public'
  }
  return 'public'
}

/** Resolves 'auto' against the listen addresses: a loopback-only node announces loopback. */
export function effectiveAnnounceFilter (filter: AnnounceFilter, listen: Multiaddr[]): Exclude<AnnounceFilter, 'auto'> {
  if (filter !== 'auto') return filter
  return listen.length > 0 && listen.every(ma => addressScope(ma) === 'loopback') ? 'all' : 'private'
}

/** Keeps the addresses `filter` allows to be announced. */
export function filterAddresses (filter: Exclude<AnnounceFilter, 'auto'>, addrs: Multiaddr[]): Multiaddr[] {
  if (filter === 'all') return addrs
  return addrs.filter(ma => {
    const scope = addressScope(ma)
    return filter === 'public' ? scope === 'public' : scope !== 'loopback'
  })
}

/**
 * DHT peerInfoMapper: keeps every address a peer announced, private and loopback included (the
 * default mapper drops them, which empties the routing table on a LAN or loopback testnet). The
 * announcing side already filtered what others should see.
 */
export function keepAllAddressesMapper (peer: PeerInfo): PeerInfo {
  return peer
}
