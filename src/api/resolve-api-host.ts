import { lookup as dnsLookup } from 'node:dns/promises'
import { isIP } from 'node:net'

/** The address lookup resolveApiHost uses; injectable so tests can play any resolver. */
export type HostLookup = (host: string) => Promise<Array<{ address: string, family: number }>>

/** What the control API binds: a concrete address, and whether every address of the name is loopback. */
export interface ResolvedApiHost {
  /** The address to bind (never a name, so the loopback check and the bind agree). */
  address: string
  /** Every address the name resolves to. */
  addresses: string[]
  /** True only when all of `addresses` are loopback. */
  loopback: boolean
}

const systemLookup: HostLookup = async host => await dnsLookup(host, { all: true })

/** True for an IP address in 127.0.0.0/8 or ::1 (also as an IPv4-mapped IPv6 address). */
export function isLoopbackAddress (address: string): boolean {
  const a = address.toLowerCase()
  if (isIP(a) === 4) return a.startsWith('127.')
  if (isIP(a) === 6) return a === '::1' || a === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(a)
  return false
}

/**
 * Resolves the configured API host to addresses and decides loopback-ness on those, not on the
 * name: `127.attacker.example` may resolve to a LAN address.
 */
export async function resolveApiHost (host: string, lookup: HostLookup = systemLookup): Promise<ResolvedApiHost> {
  const addresses = isIP(host) !== 0 ? [host] : (await lookup(host)).map(a => a.address)
  if (addresses.length === 0) throw new Error(`${host} resolves to no address`)
  return { address: addresses[0]!, addresses, loopback: addresses.every(isLoopbackAddress) }
}
