// The only module that imports the GossipSub implementation, so switching implementations
// (e.g. back to @chainsafe/libp2p-gossipsub once it supports libp2p 3) is a change here alone.
import { createHash } from 'node:crypto'
import { gossipsub, StrictSign, TopicValidatorResult } from '@libp2p/gossipsub'
import {
  GOSSIP_D_LAZY,
  GOSSIP_MAX_INBOUND_DATA_LENGTH,
  GOSSIP_MESH_D,
  GOSSIP_MESH_D_HIGH,
  GOSSIP_MESH_D_LOW,
  GOSSIP_MESH_D_OUT,
  GOSSIP_MESH_D_SCORE
} from './constants.js'
import type { GossipSub, GossipsubMessage, GossipsubOpts, Message, TopicValidatorFn } from '@libp2p/gossipsub'

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
 * - fastMsgIdFn: a copy of a message already accepted is recognised as a duplicate before its
 *   signature is checked (see rawMessageId).
 * - A mesh of degree 2-4 instead of 4-12: with flood publishing, the mesh's forwards are mostly
 *   copies (see GOSSIP_MESH_D).
 */
export function shoalGossipsub (): ReturnType<typeof gossipsub> {
  return gossipsub({
    globalSignaturePolicy: StrictSign,
    emitSelf: false,
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    floodPublish: true,
    maxInboundDataLength: GOSSIP_MAX_INBOUND_DATA_LENGTH,
    fastMsgIdFn: rawMessageId,
    D: GOSSIP_MESH_D,
    Dlo: GOSSIP_MESH_D_LOW,
    Dhi: GOSSIP_MESH_D_HIGH,
    Dscore: GOSSIP_MESH_D_SCORE,
    Dout: GOSSIP_MESH_D_OUT,
    Dlazy: GOSSIP_D_LAZY,
    scoreParams: {
      IPColocationFactorWeight: 0,
      IPColocationFactorThreshold: 1_000_000
    }
  })
}

type RawMessage = Parameters<GossipsubOpts['fastMsgIdFn']>[0]

/**
 * SHA-256 over every field of a message as received (origin, sequence number, topic, data,
 * signature, key), each with its length. With flood publishing and mesh forwarding a member receives
 * each announcement from several peers, and without a fast id GossipSub verified the ed25519
 * signature of every copy before noticing the duplicate. Only messages that passed validation are
 * remembered under this id, so a forged message can at most be taken for a copy of one already
 * accepted: it is then dropped, never delivered.
 */
export function rawMessageId (msg: RawMessage): string {
  const hash = createHash('sha256')
  const topic = Buffer.from(msg.topic)
  for (const field of [msg.from, msg.seqno, topic, msg.data, msg.signature, msg.key]) {
    const bytes = field ?? EMPTY
    const length = Buffer.allocUnsafe(4)
    length.writeUInt32BE(bytes.byteLength)
    hash.update(length).update(bytes)
  }
  return hash.digest('base64')
}

const EMPTY = new Uint8Array(0)
