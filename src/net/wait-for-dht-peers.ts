import { setTimeout as sleep } from 'node:timers/promises'
import { DHT_PEER_POLL_MS } from './constants.js'
import type { KadDHT, SingleKadDHT } from '@libp2p/kad-dht'

/**
 * Resolves once the DHT's routing table holds a peer. kad-dht itself makes every query wait for that
 * and then for its whole first self-query, a walk of the network that dials every peer it finds:
 * 1.5-2 s of a cold receiver's start in the netns bench (10 nodes starting on 2 cores), spent before
 * the provider lookup could even ask the bootstrap node that holds the record. shoal runs kad-dht with
 * `allowQueryWithZeroPeers` and waits here for the first peer only; the self-query still runs, beside.
 * The routing table's size is SingleKadDHT's public field (the single-DHT service is what
 * createShoalLibp2p builds); polled, since its events are not public.
 */
export async function waitForDhtPeers (dht: KadDHT, signal: AbortSignal): Promise<void> {
  const table = (dht as Partial<SingleKadDHT>).routingTable
  if (table === undefined) return
  while (table.size === 0) await sleep(DHT_PEER_POLL_MS, undefined, { signal })
}
