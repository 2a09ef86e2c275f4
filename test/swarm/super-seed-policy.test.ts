import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Availability } from '../../src/swarm/availability.js'
import { SuperSeedPolicy } from '../../src/swarm/super-seed-policy.js'

function setup (size: number, init: { reveal?: number, graceMs?: number, refusalWindowMs?: number } = {}): { availability: Availability, policy: SuperSeedPolicy, advance: (ms: number) => void } {
  let t = 0
  const availability = new Availability(size)
  const policy = new SuperSeedPolicy({ availability, now: () => t, ...init })
  return { availability, policy, advance: ms => { t += ms } }
}

describe('SuperSeedPolicy', () => {
  it('reveals a few distinct, rarest never-uploaded chunks per peer', () => {
    const { availability, policy } = setup(10, { reveal: 2 })
    // Chunks 0-5 are already common in the swarm; 6-9 are held by nobody else.
    for (const p of ['x', 'y']) availability.peerHave(p, [0, 1, 2, 3, 4, 5])
    const a = [...policy.bitfieldFor('a').indexes()]
    const b = [...policy.bitfieldFor('b').indexes()]
    assert.equal(a.length, 2)
    assert.equal(b.length, 2)
    for (const i of [...a, ...b]) assert.ok(i >= 6, `revealed ${i}, which others already hold`)
    assert.equal(new Set([...a, ...b]).size, 4, 'each chunk is revealed to one peer at a time')
    assert.deepEqual([...policy.bitfieldFor('a').indexes()], a, 'stable until a got them')
  })

  it('reveals fresh chunks once the peer got the previous ones', () => {
    const { policy } = setup(6, { reveal: 2 })
    const first = [...policy.bitfieldFor('a').indexes()]
    for (const i of first) assert.equal(policy.admit('a', i), 'ok')
    const next = [...policy.bitfieldFor('a').indexes()]
    assert.equal(next.length, 2)
    for (const i of next) assert.ok(!first.includes(i))
  })

  it('uploads each chunk once while others hold it, and serves again only if its copy is lost', () => {
    const { availability, policy, advance } = setup(4, { graceMs: 100 })
    assert.equal(policy.admit('a', 0), 'ok', 'first upload')
    assert.equal(policy.admit('b', 0), 'elsewhere', 'within the grace period: a is about to have it')
    advance(10)
    availability.peerHave('a', [0])
    advance(200)
    assert.equal(policy.admit('c', 0), 'elsewhere', 'a holds it and will serve it')
    assert.equal(policy.uploads(0), 1)
    availability.removePeer('a')
    assert.equal(policy.admit('d', 0), 'ok', 'nobody else holds it: never starve the swarm')
    assert.equal(policy.uploads(0), 2)
  })

  it('runs the grace from the send, not the admission: a copy that waited in a queue is still on its way', () => {
    const { policy, advance } = setup(4, { graceMs: 100 })
    assert.equal(policy.admit('a', 0), 'ok')
    advance(150)
    policy.sent(0)
    advance(50)
    assert.equal(policy.admit('b', 0), 'elsewhere', 'sent 50 ms ago: a is about to have it')
    advance(60)
    assert.equal(policy.admit('c', 0), 'ok', 'sent 110 ms ago and nobody announced it: lost, serve it again')
  })

  it('shows everything once every chunk went out once', () => {
    const { policy } = setup(3)
    for (let i = 0; i < 3; i++) assert.equal(policy.admit(`p${i}`, i), 'ok')
    assert.equal(policy.bitfieldFor('late').count, 3)
  })

  it('forgets reveals to a peer that left', () => {
    const { policy } = setup(2, { reveal: 2 })
    assert.equal(policy.bitfieldFor('a').count, 2)
    assert.equal(policy.bitfieldFor('b').count, 2, 'b is shown the same chunks only because nothing else is left')
    policy.removePeer('a')
    policy.removePeer('b')
    assert.equal(policy.bitfieldFor('c').count, 2)
  })

  it('sends a peer elsewhere for a chunk only for a while: holders it cannot use (banned, lying) do not starve it', () => {
    const { availability, policy, advance } = setup(4, { graceMs: 100, refusalWindowMs: 1_000 })
    assert.equal(policy.admit('a', 0), 'ok')
    advance(200)
    availability.peerHave('liar', [0, 1, 2, 3])
    assert.equal(policy.admit('b', 0), 'elsewhere', 'the first ask is sent to the claimed holder')
    advance(500)
    assert.equal(policy.admit('b', 0), 'elsewhere', 'still within the window')
    advance(500)
    assert.equal(policy.admit('b', 0), 'ok', 'b is still asking: the claim did not help it')
    assert.equal(policy.admit('c', 0), 'elsewhere', 'a refusal of b says nothing to c')
    assert.equal(policy.uploads(0), 2)
  })

  it('serves at once a peer that says it has no other source (lastResort)', () => {
    const { availability, policy, advance } = setup(4, { graceMs: 100, refusalWindowMs: 1_000 })
    assert.equal(policy.admit('a', 0), 'ok')
    advance(200)
    availability.peerHave('liar', [0])
    assert.equal(policy.admit('b', 0), 'elsewhere')
    assert.equal(policy.admit('b', 0, true), 'ok', 'b tried the claimed holder')
    assert.equal(policy.uploads(0), 2)
  })
})
