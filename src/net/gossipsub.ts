// The only module that imports the GossipSub implementation, so switching implementations
// (e.g. back to @chainsafe/libp2p-gossipsub once it supports libp2p 3) is a change here alone.
import { gossipsub, StrictSign, TopicValidatorResult } from '@libp2p/gossipsub'
import { GOSSIP_MAX_INBOUND_DATA_LENGTH } from './constants.js'
import type { GossipSub, GossipsubMessage, Message, TopicValidatorFn } from '@libp2p/gossipsub'

export { TopicValidatorResult }
export type { GossipSub, GossipsubMessage, Message as GossipMessage, TopicValidatorFn }

/**
 * The GossipSub service shoal runs.
 *
 * - Signatures required (StrictSign): an unsigned or forged announcement is rejected, and the
 *   origin PeerId in the availability view is authenticated.
 * - emitSelf false: a node does not process its own announcements.
 * - IP colocation penalty off (weight 0): the default scores every peer beyond 10 sharing one IP
 *   negatively, and on loopback testnets or NAT'd docker/k8s networks all peers share one IP, so
 *   they sink below the graylist threshold and publishes silently reach nobody. Shoal's sybil
 *   defence is the swarm key and per-chunk verification, not IP diversity.
 * - allowPublishToZeroTopicPeers: announcing before anyone else joined is normal, not an error.
 */
export function shoalGossipsub (): ReturnType<typeof gossipsub> {
  return gossipsub({
    globalSignaturePolicy: StrictSign,
    emitSelf: false,
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    floodPublish: true,
    maxInboundDataLength: GOSSIP_MAX_INBOUND_DATA_LENGTH,
    scoreParams: {
      IPColocationFactorWeight: 0,
      IPColocationFactorThreshold: 1_000_000
    }
  })
}
