// Alias claims on real nodes (real GossipSub on loopback): nodes that want one alias at the same
// moment all choose the same one of them (the highest sha256(alias, peer id)) with no DHT round;
// the others follow its claim and learn the content the moment it announces it; a dropped claim
// sends them back to choosing; a waiter keeps its want fresh, so a re-choice counts it.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { ShoalNode } from '../../src/node/shoal-node.js'
import { Harness, waitUntil } from './helpers.js'

const NODES = 3

async function aliasOf (text: string): Promise<string> {
  return CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(text))).toString()
}

function chosenOf (alias: string, peers: string[]): string {
  const score = (peer: string): string => createHash('sha256').update(alias).update('\0').update(peer).digest('hex')
  return [...peers].sort((a, b) => score(b).localeCompare(score(a)))[0]!
}

/** Until `waiter`'s choice for `alias` is to follow a claim (the claim reached it). */
async function claimHeard (waiter: ShoalNode, alias: string): Promise<void> {
  await waitUntil('the claim arrives', async () => (await waiter.aliases.claims.decide(alias, { signal: AbortSignal.timeout(5_000), exclude: new Set() })).kind === 'claimer')
}

describe('alias claims', { timeout: 60_000 }, () => {
  const h = new Harness()
  after(async () => { await h.cleanup() })

  it('simultaneous wanters choose one node; the others follow its claim and get its announcement', async () => {
    await h.startBootstrap()
    const nodes = await Promise.all(Array.from({ length: NODES }, async () => await h.node()))
    for (const n of nodes) n.aliases.claims.join()
    await waitUntil('every node sees the others on the topic', async () => nodes.every(n => n.aliases.claims.members().length >= NODES - 1))
    const signal = AbortSignal.timeout(30_000)
    for (const round of ['one', 'two', 'three']) {
      const alias = await aliasOf(round)
      const decisions = await Promise.all(nodes.map(async n => await n.aliases.claims.decide(alias, { signal, exclude: new Set() })))
      const expected = chosenOf(alias, nodes.map(n => n.peerId))
      decisions.forEach((d, i) => {
        if (nodes[i]!.peerId === expected) assert.deepEqual(d, { kind: 'self' }, `round ${round}: the chosen node fetches`)
        else assert.deepEqual(d, { kind: 'claimer', peer: expected }, `round ${round}: the others wait for ${expected}`)
      })
      const claimer = nodes.find(n => n.peerId === expected)!
      const claim = claimer.aliases.claims.claim(alias)
      const waiters = nodes.filter(n => n !== claimer).map(async n => await n.aliases.claims.waitFor(alias, expected, { signal, exclude: new Set() }))
      claim.progress(1000)
      const cid = 'bafyreigdmqpykrgxyaxtlafqpqhzrb7qy2rh75nldvfd4tucqmqqme5yje'
      claimer.aliases.claims.announce(alias, cid)
      claim.end(false)
      for (const outcome of await Promise.all(waiters)) assert.deepEqual(outcome, { kind: 'holder', peer: expected, cid })
    }
  })

  it('a dropped claim ends the wait at once, well before the silence bound', async () => {
    const nodes = h.nodes.slice(-NODES)
    const alias = await aliasOf('dropped')
    const [claimer, waiter] = nodes as [typeof nodes[0], typeof nodes[0]]
    const claim = claimer.aliases.claims.claim(alias)
    await claimHeard(waiter, alias)
    const waiting = waiter.aliases.claims.waitFor(alias, claimer.peerId, { signal: AbortSignal.timeout(30_000), exclude: new Set() })
    const started = Date.now()
    claim.end(true)
    assert.deepEqual(await waiting, { kind: 'failed', reason: 'it dropped its claim', peer: claimer.peerId })
    console.log(`a dropped claim ended the wait in ${Date.now() - started} ms`)
  })

  it('a waiter repeats its want: a re-choice long after the first one still counts it', async () => {
    const nodes = h.nodes.slice(-NODES)
    const alias = await aliasOf('re-choice')
    // roles chosen so that the re-choice between the two waiters falls on `waiter`, not on `chooser`
    const claimer = nodes[0]!
    const [chooser, waiter] = nodes.slice(1).sort((a, b) => chosenOf(alias, [a.peerId, b.peerId]) === b.peerId ? -1 : 1) as [typeof claimer, typeof claimer]
    const claim = claimer.aliases.claims.claim(alias)
    const signal = AbortSignal.timeout(30_000)
    await claimHeard(waiter, alias)
    const stop = new AbortController()
    const waiting = waiter.aliases.claims.waitFor(alias, claimer.peerId, { signal: stop.signal, exclude: new Set() }).catch(() => 'stopped')
    try {
      // past WANT_TTL_MS (5 s): the waiter's first want alone would have expired by now
      await new Promise(resolve => setTimeout(resolve, 6_500))
      // the chooser saw the claimer fail; it counts the waiter, and both would compute the same one
      const decision = await chooser.aliases.claims.decide(alias, { signal, exclude: new Set([claimer.peerId]) })
      assert.deepEqual(decision, { kind: 'claimer', peer: waiter.peerId })
    } finally {
      stop.abort()
      claim.end(true)
      await waiting
    }
  })

  it('a wait that followed another claimer than the chosen one reports that claimer when it fails', async () => {
    const nodes = h.nodes.slice(-NODES)
    const alias = await aliasOf('followed')
    const [waiter, chosen, claimer] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]]
    const claim = claimer.aliases.claims.claim(alias)
    await claimHeard(waiter, alias)
    // the waiter chose `chosen`, which never claims: the wait follows the live claim instead
    const waiting = waiter.aliases.claims.waitFor(alias, chosen.peerId, { signal: AbortSignal.timeout(30_000), exclude: new Set() })
    await new Promise(resolve => setTimeout(resolve, 500))
    claim.end(true)
    // the one to exclude is the claimer that dropped, not the chosen peer (still a fine next choice)
    assert.deepEqual(await waiting, { kind: 'failed', reason: 'it dropped its claim', peer: claimer.peerId })
  })
})
