import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Bitfield } from '../../src/util/bitfield.js'
import { isShoalError } from '../../src/util/shoal-error.js'
import { decodeAnnounce, encodeBitfield, encodeHave, encodeLeave, haveTopic, netConstants } from '../../src/net/index.js'
import { CID as Cid } from 'multiformats/cid'
import { Announce } from '../../src/net/pb/announce.js'
import { Harness, viewOf, waitFor } from './helpers.js'
import type { HaveAnnouncer, ShoalNetwork } from '../../src/net/index.js'
import type { Availability } from '../../src/swarm/index.js'

const CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const CID_BYTES = Cid.parse(CID).bytes
const OTHER_CID = Cid.parse('bafkreie7q3iidccmpvszul7kudcvvuavuo7u6gzlbobczuk5nqk3b4akba')
const CHUNKS = 20
const ctx = { cid: Cid.parse(CID), chunkCount: CHUNKS }
const V = netConstants.ANNOUNCE_VERSION

describe('announce codec', () => {
  it('round-trips HAVE, BITFIELD and LEAVE', () => {
    assert.deepEqual(decodeAnnounce(encodeHave(ctx, [9, 3, 3, 19, 0]), ctx), { type: 'have', indexes: [0, 3, 9, 19] })
    const bf = new Bitfield(CHUNKS)
    bf.set(1); bf.set(19)
    const got = decodeAnnounce(encodeBitfield(ctx, bf), ctx)
    assert.equal(got.type, 'bitfield')
    assert.deepEqual(got.type === 'bitfield' ? [...got.bitfield.indexes()] : [], [1, 19])
    assert.deepEqual(decodeAnnounce(encodeLeave(ctx), ctx), { type: 'leave' })
  })

  it('rejects malformed, wrong-version, wrong-content, out-of-range and oversized messages', () => {
    const rejects = (data: Uint8Array): void => {
      assert.throws(() => decodeAnnounce(data, ctx), (err: unknown) => isShoalError(err, 'ERR_BAD_ANNOUNCE'))
    }
    rejects(new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02]))
    rejects(Announce.encode({ version: V + 1, type: Announce.Type.LEAVE, cid: CID_BYTES, chunkCount: CHUNKS }))
    rejects(encodeLeave({ cid: OTHER_CID, chunkCount: CHUNKS }))
    rejects(encodeLeave({ cid: ctx.cid, chunkCount: CHUNKS + 1 }))
    rejects(encodeHave({ cid: ctx.cid, chunkCount: 100 }, [50]))
    rejects(Announce.encode({ version: V, type: Announce.Type.HAVE, cid: CID_BYTES, chunkCount: CHUNKS, indexes: new Uint8Array([1, 0]) }))
    rejects(Announce.encode({ version: V, type: Announce.Type.HAVE, cid: CID_BYTES, chunkCount: CHUNKS, indexes: new Uint8Array([0x80]) }))
    rejects(Announce.encode({ version: V, type: Announce.Type.BITFIELD, cid: CID_BYTES, chunkCount: CHUNKS, bitfield: new Uint8Array(2) }))
    rejects(Announce.encode({ version: V, type: Announce.Type.UNKNOWN, cid: CID_BYTES, chunkCount: CHUNKS }))
    // The CID as version 1 sent it (a base32 string) is not this content's binary CID.
    rejects(Announce.encode({ version: V, type: Announce.Type.LEAVE, cid: new TextEncoder().encode(CID), chunkCount: CHUNKS }))
    rejects(new Uint8Array(netConstants.MAX_ANNOUNCE_BYTES + 1))
  })
})

describe('HaveAnnouncer and DHT under hostile input', () => {
  const h = new Harness()
  let boot: ShoalNetwork
  let a: ShoalNetwork
  let b: ShoalNetwork
  let attacker: ShoalNetwork
  let viewA: HaveAnnouncer
  let viewB: HaveAnnouncer
  let seenByA: Availability
  let seenByB: Availability

  before(async () => {
    boot = await h.network()
    await boot.start()
    const bootstrap = [boot.multiaddrs[0]!.toString()]
    a = await h.network({ bootstrap })
    b = await h.network({ bootstrap })
    attacker = await h.network({ bootstrap })
    await Promise.all([a.start(), b.start(), attacker.start()])
    await waitFor('all connected to bootstrap', () => boot.connectedPeers().length >= 3)
    viewA = a.joinContent(CID, CHUNKS)
    viewB = b.joinContent(CID, CHUNKS)
    seenByA = viewOf(viewA)
    seenByB = viewOf(viewB)
    boot.joinContent(CID, CHUNKS)
    // The attacker subscribes with raw GossipSub and no validator, so it can publish anything.
    attacker.libp2p.services.pubsub.subscribe(haveTopic(CID))
    await waitFor('attacker subscription seen', () =>
      a.libp2p.services.pubsub.getSubscribers(haveTopic(CID)).some(p => p.equals(attacker.peerId)) &&
      boot.libp2p.services.pubsub.getSubscribers(haveTopic(CID)).some(p => p.equals(attacker.peerId)) &&
      // the attacker flood-publishes to the subscribers it knows: a must be one, or a sees no garbage to reject
      attacker.libp2p.services.pubsub.getSubscribers(haveTopic(CID)).some(p => p.equals(a.peerId)))
  })
  after(async () => { await h.cleanup() })

  it('rejects garbage gossip and leaves the availability view unchanged', async () => {
    const pubsub = attacker.libp2p.services.pubsub
    const topic = haveTopic(CID)
    const garbage = [
      new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0xff, 0xff]),
      Announce.encode({ version: 9, type: Announce.Type.HAVE, cid: CID_BYTES, chunkCount: CHUNKS, indexes: new Uint8Array([1]) }),
      encodeHave({ cid: ctx.cid, chunkCount: 1000 }, [999]),
      encodeHave({ cid: OTHER_CID, chunkCount: CHUNKS }, [1]),
      new Uint8Array(64 * 1024).fill(0x0a)
    ]
    // Delivered 'message' events only happen after the topic validator accepted the message.
    let delivered = 0
    for (const n of [a, b, boot]) {
      n.libp2p.services.pubsub.addEventListener('message', evt => {
        if (evt.detail.type === 'signed' && evt.detail.from.equals(attacker.peerId)) delivered++
      })
    }
    // what metrics count: the network's gossip events
    const counted = { in: 0, out: 0, rejected: 0 }
    a.addEventListener('gossip', ({ detail }) => { counted[detail]++ })
    for (const data of garbage) await pubsub.publish(topic, data)
    // A valid announcement from b, published after the garbage, proves delivery is working.
    viewB.announceHave(5)
    await waitFor('a sees b\'s valid HAVE', () => seenByA.peerHas(b.peerId.toString(), 5))
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.equal(delivered, 0, 'a malformed announcement passed the topic validator')
    assert.ok(counted.rejected > 0, `rejected announcements are counted (${JSON.stringify(counted)})`)
    assert.ok(counted.in > 0, `delivered announcements are counted (${JSON.stringify(counted)})`)
    assert.equal(seenByA.bitfield(attacker.peerId.toString()), undefined)
    assert.equal(seenByB.bitfield(attacker.peerId.toString()), undefined)
    assert.equal(viewA.isMember(attacker.peerId), false)
    assert.deepEqual([...seenByA.peers()].sort(), [b.peerId.toString(), boot.peerId.toString()].sort())
  })

  it('survives junk written on DHT streams: every node keeps serving', async () => {
    for (const target of [boot, a, b]) {
      for (const junk of [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]), new Uint8Array(8192).fill(0x41), new Uint8Array([0x05, 1, 2])]) {
        const stream = await attacker.libp2p.dialProtocol(target.peerId, netConstants.DHT_PROTOCOL, { signal: AbortSignal.timeout(5_000) })
        stream.send(junk)
        await stream.close({ signal: AbortSignal.timeout(2_000) }).catch(() => {})
      }
    }
    await new Promise(resolve => setTimeout(resolve, 300))
    for (const target of [boot, a, b]) {
      assert.ok(target.started)
      // libp2p's connection monitor pings too and ping allows one outbound stream: retry briefly.
      let rtt = -1
      await waitFor(`ping ${target.peerId.toString()}`, async () => {
        rtt = await attacker.libp2p.services.ping.ping(target.peerId, { signal: AbortSignal.timeout(2_000) }).catch(() => -1)
        return rtt >= 0
      }, 10_000)
      assert.ok(rtt >= 0)
    }
    const { CID: CidClass } = await import('multiformats/cid')
    const cid = CidClass.parse(CID)
    await waitFor('a provides', async () => (await a.provide(cid)) > 0, 15_000)
    const found = await b.findProviders(cid, { timeoutMs: 10_000, maxProviders: 1 })
    assert.ok(found.some(p => p.id.equals(a.peerId)))
  })
})
