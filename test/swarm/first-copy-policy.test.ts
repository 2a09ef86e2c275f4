import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Availability } from '../../src/swarm/availability.js'
import { FirstCopyPolicy } from '../../src/swarm/first-copy-policy.js'
import { Bitfield } from '../../src/util/bitfield.js'

const WINDOW_MS = 1_000

function setup (size: number, graceMs = 100, spreadCopies?: number): { availability: Availability, policy: FirstCopyPolicy, advance: (ms: number) => void } {
  let t = 0
  const availability = new Availability(size)
  const policy = new FirstCopyPolicy({ availability, graceMs, spreadCopies, refusalWindowMs: WINDOW_MS, now: () => t })
  return { availability, policy, advance: ms => { t += ms } }
}

describe('FirstCopyPolicy', () => {
  it('refuses a second copy while the first is on its way and fresh chunks remain', () => {
    const { policy } = setup(3)
    assert.equal(policy.admit('x', 0), 'ok')
    assert.equal(policy.admit('y', 0), 'elsewhere', 'the first copy is within its grace period')
    assert.equal(policy.uploads(0), 1)
    assert.equal(policy.fresh, 2)
  })

  it('refuses a chunk another peer holds, and serves it again once its only copy is gone', () => {
    const { availability, policy, advance } = setup(3)
    assert.equal(policy.admit('x', 0), 'ok')
    advance(1_000)
    availability.peerHave('a', [0])
    assert.equal(policy.admit('y', 0), 'elsewhere', 'a holds it and can serve it')
    availability.removePeer('a')
    assert.equal(policy.admit('y', 0), 'ok', 'a left with the only copy: serve it again')
    assert.equal(policy.uploads(0), 2)
  })

  it('once every chunk was uploaded, leaves a chunk anyone else holds to them by default', () => {
    const { availability, policy, advance } = setup(2)
    availability.peerHave('a', [0])
    assert.equal(policy.admit('x', 0), 'ok')
    assert.equal(policy.admit('x', 1), 'ok')
    assert.equal(policy.fresh, 0)
    advance(100)
    assert.equal(policy.admit('y', 0), 'elsewhere', 'a holds it')
    assert.equal(policy.admit('y', 1), 'ok', 'nobody else is known to hold it and its copy is past its grace: the uplink is free for it')
  })

  it('once every chunk was uploaded, still refuses a chunk whose only copy is on its way', () => {
    const { policy, advance } = setup(2)
    assert.equal(policy.admit('x', 0), 'ok')
    assert.equal(policy.admit('x', 1), 'ok')
    assert.equal(policy.fresh, 0)
    // the last fresh chunks are what every receiver asks for at once, before x could announce them
    assert.equal(policy.admit('y', 1), 'elsewhere', 'x has not announced it yet: it is on its way')
    assert.equal(policy.admit('z', 1), 'elsewhere')
    advance(100)
    assert.equal(policy.admit('z', 1), 'ok', 'past the grace with no holder: the copy is gone, serve it')
    assert.equal(policy.uploads(1), 2)
  })

  it('a copy on its way to a peer that left covers nothing: the next asker is served at once', () => {
    const { policy, advance } = setup(2)
    assert.equal(policy.admit('x', 0), 'ok')
    assert.equal(policy.admit('x', 1), 'ok')
    advance(10)
    assert.equal(policy.admit('y', 1), 'elsewhere', 'x has not announced it yet: it is on its way')
    policy.removePeer('x')
    assert.equal(policy.admit('z', 1), 'ok', 'x left before it could serve it: the copy is lost')
    assert.equal(policy.admit('y', 0), 'ok')
    assert.equal(policy.admit('w', 1), 'elsewhere', 'the copy on its way to z covers it')
  })

  it('runs the grace from the send, not the admission: a copy that waited in a queue is still on its way', () => {
    const { policy, advance } = setup(3)
    assert.equal(policy.admit('x', 0), 'ok')
    advance(150)
    policy.sent(0)
    advance(50)
    assert.equal(policy.admit('y', 0), 'elsewhere', 'sent 50 ms ago, admitted 200 ms ago: within the 100 ms grace of its send')
    advance(60)
    assert.equal(policy.admit('z', 0), 'ok', 'sent 110 ms ago and nobody announced it: lost, serve it again')
  })

  it('once every chunk was uploaded, serves only chunks fewer than spreadCopies peers hold', () => {
    const { availability, policy, advance } = setup(2, 100, 2)
    availability.peerHave('a', [0, 1])
    assert.equal(policy.admit('x', 0), 'ok')
    assert.equal(policy.admit('y', 0), 'elsewhere')
    assert.equal(policy.admit('x', 1), 'ok')
    assert.equal(policy.fresh, 0)
    advance(100)
    assert.equal(policy.admit('y', 0), 'ok', 'no fresh chunk left to prefer, and only a holds it')
    availability.peerHave('b', [1])
    assert.equal(policy.admit('y', 1), 'elsewhere', 'a and b hold it')
  })

  it('once every chunk went out, serves a chunk few peers hold when its uplink would idle', () => {
    const availability = new Availability(2)
    let t = 0
    const policy = new FirstCopyPolicy({ availability, graceMs: 100, idleSpreadCopies: 2, refusalWindowMs: WINDOW_MS, now: () => t })
    availability.peerHave('a', [0, 1])
    assert.equal(policy.admit('x', 0), 'ok')
    assert.equal(policy.admit('y', 0, { uplinkIdle: true }), 'elsewhere', 'a fresh chunk is left: the uplink is for it')
    assert.equal(policy.admit('x', 1), 'ok')
    t += 100
    assert.equal(policy.admit('y', 0), 'elsewhere', 'a holds it and the uplink is busy')
    assert.equal(policy.admit('z', 1, { uplinkIdle: true }), 'ok', 'idle otherwise, and only a holds it')
    assert.equal(policy.uploads(1), 2)
    availability.peerHave('b', [0])
    assert.equal(policy.admit('z', 0, { uplinkIdle: true }), 'elsewhere', 'a and b hold it: enough copies to spread')
  })

  it('serves the same peer again: it did not get the first copy', () => {
    const { policy } = setup(3)
    assert.equal(policy.admit('x', 0), 'ok')
    assert.equal(policy.admit('x', 0), 'ok')
    assert.equal(policy.admit('y', 0), 'elsewhere')
  })

  it('lets an out-of-range index through for the reader to reject', () => {
    const { policy } = setup(2)
    assert.equal(policy.admit('x', 5), 'ok')
    assert.equal(policy.fresh, 2)
  })

  it('sends a peer elsewhere for a chunk only for a window, then serves it: claimed holders may be banned or lying', () => {
    const { availability, policy, advance } = setup(2)
    assert.equal(policy.admit('x', 0), 'ok')
    assert.equal(policy.admit('x', 1), 'ok')
    // two identities claim every chunk; nobody can tell from here whether they serve anything
    availability.peerBitfield('liar1', full(2))
    availability.peerBitfield('liar2', full(2))
    assert.equal(policy.admit('y', 0), 'elsewhere', 'a hint: try the other holders first')
    assert.equal(policy.admit('y', 1), 'elsewhere')
    advance(WINDOW_MS / 2)
    assert.equal(policy.admit('y', 0), 'elsewhere', 'within the window: the holders may still deliver')
    advance(WINDOW_MS / 2)
    assert.equal(policy.admit('y', 0), 'ok', 'y is still asking: it found no usable holder')
    assert.equal(policy.admit('y', 1), 'ok')
    assert.equal(policy.admit('z', 0), 'elsewhere', 'each asker gets its own single refusal')
  })

  it('serves at once a peer that says it has no other source (lastResort)', () => {
    const { availability, policy } = setup(3)
    assert.equal(policy.admit('x', 0), 'ok')
    availability.peerHave('corrupter', [0])
    assert.equal(policy.admit('y', 0), 'elsewhere')
    assert.equal(policy.admit('y', 0, { lastResort: true }), 'ok', 'y checked the claimed holder: serve it, window or not')
    assert.equal(policy.uploads(0), 2)
    assert.equal(policy.admit('z', 0), 'elsewhere', 'z said nothing of the sort')
  })

  it('while fresh chunks remain, a second last resort for a chunk just sent as one waits under the refusal window', () => {
    let t = 0
    const availability = new Availability(3)
    const policy = new FirstCopyPolicy({ availability, graceMs: 10_000, lastResortGraceMs: 3_000, refusalWindowMs: WINDOW_MS, now: () => t })
    assert.equal(policy.admit('x', 0), 'ok')
    availability.peerHave('corrupter', [0])
    assert.equal(policy.admit('y', 0, { lastResort: true }), 'ok', 'the first last resort is served at once')
    assert.equal(policy.admit('z', 0, { lastResort: true }), 'elsewhere', "y's copy is on its way: z takes it from y")
    assert.equal(policy.lastReason, 'refused')
    assert.equal(policy.admit('y', 0, { lastResort: true }), 'ok', 'y asking again did not get it')
    t += WINDOW_MS
    assert.equal(policy.admit('z', 0, { lastResort: true }), 'ok', 'z still found no usable holder: the window serves it')
    assert.equal(policy.uploads(0), 4)
    t += 3_000
    assert.equal(policy.admit('w', 0, { lastResort: true }), 'ok', 'past the last-resort grace: served at once')
    assert.equal(policy.lastReason, 'last-resort')
  })

  it('once every chunk went out, a second last resort within the grace waits too, idle uplink or not', () => {
    let t = 0
    const availability = new Availability(1)
    const policy = new FirstCopyPolicy({ availability, graceMs: 10_000, lastResortGraceMs: 3_000, refusalWindowMs: WINDOW_MS, now: () => t })
    assert.equal(policy.admit('x', 0), 'ok')
    assert.equal(policy.fresh, 0)
    assert.equal(policy.admit('y', 0, { lastResort: true, uplinkIdle: true }), 'ok')
    t += 1
    assert.equal(policy.admit('z', 0, { lastResort: true, uplinkIdle: true }), 'elsewhere', "z takes y's copy from y")
    t += WINDOW_MS
    assert.equal(policy.admit('z', 0, { lastResort: true, uplinkIdle: true }), 'ok', 'and is served once the window is over')
  })

  it('also serves a peer still asking after the window while fresh chunks remain', () => {
    const { availability, policy, advance } = setup(3)
    assert.equal(policy.admit('x', 0), 'ok')
    availability.peerHave('corrupter', [0])
    assert.equal(policy.admit('y', 0), 'elsewhere')
    advance(WINDOW_MS)
    assert.equal(policy.admit('y', 0), 'ok', 'y banned the only other holder, say: serve it')
    assert.equal(policy.fresh, 2)
  })

  it('stops counting the claims of a peer two last-resort askers named as banned', () => {
    const { availability, policy, advance } = setup(4)
    availability.peerHave('c', [0, 1, 2])
    availability.addPeer('y')
    availability.addPeer('z')
    assert.equal(policy.admit('c', 0), 'ok')
    assert.equal(policy.admit('c', 1), 'ok')
    advance(1_000)
    assert.equal(policy.admit('x', 1), 'elsewhere', 'c claims chunk 1')
    // one asker's word is not enough
    assert.equal(policy.admit('y', 0, { lastResort: true, excluded: ['c'] }), 'ok')
    assert.equal(policy.admit('w', 1), 'elsewhere', 'c is named by y alone: its claim still counts')
    assert.equal(policy.admit('z', 0, { lastResort: true, excluded: ['c'] }), 'elsewhere', "y's last-resort copy is on its way: z takes it from y, and its report counts")
    assert.equal(policy.admit('v', 1), 'ok', "two askers named c: its claim no longer covers chunk 1")
    assert.equal(policy.lastReason, 'uncovered')
    assert.equal(policy.admit('u', 1), 'elsewhere', "v's copy is on its way, and v is no suspect")
  })

  it("delays a suspect by the refusal window at most: its last resort, and a first copy, go to others first", () => {
    const { availability, policy, advance } = setup(3)
    availability.peerHave('c', [0])
    availability.peerHave('d', [1])
    for (const p of ['x', 'y', 'z']) availability.addPeer(p)
    assert.equal(policy.admit('x', 0), 'ok')
    assert.equal(policy.admit('x', 1), 'ok')
    advance(1_000)
    policy.admit('y', 0, { lastResort: true, excluded: ['c', 'd'] })
    policy.admit('z', 0, { lastResort: true, excluded: ['c', 'd'] })
    assert.equal(policy.admit('c', 1, { lastResort: true, excluded: ['d'] }), 'elsewhere', 'a suspect is sent elsewhere for a chunk another suspect claims')
    advance(WINDOW_MS)
    assert.equal(policy.admit('c', 1, { lastResort: true }), 'ok', 'and served once the window is over: a report never denies anyone')
    assert.equal(policy.admit('c', 2), 'elsewhere', 'a first copy goes to a peer nobody reported')
    advance(WINDOW_MS)
    assert.equal(policy.admit('c', 2), 'ok', 'unless nobody else took it within the window')
    assert.equal(policy.lastReason, 'fresh')
  })

  it('ignores reports while the suspects would be half the members or more', () => {
    const { availability, policy } = setup(3)
    availability.peerHave('c', [0])
    availability.peerHave('d', [0])
    availability.addPeer('y')
    availability.addPeer('z')
    policy.admit('y', 0, { excluded: ['c', 'd'] })
    policy.admit('z', 0, { excluded: ['c', 'd'] })
    assert.equal(policy.admit('c', 1), 'ok', '2 suspects of 4 members are no minority: nobody is one')
    availability.addPeer('v')
    assert.equal(policy.admit('d', 2), 'elsewhere', 'of 5 members they are: a first copy goes to others first')
  })

  it('ignores reports of peers it never heard of, and of the asker itself', () => {
    const { availability, policy, advance } = setup(2)
    availability.peerHave('c', [0])
    assert.equal(policy.admit('x', 0), 'ok')
    advance(1_000)
    policy.admit('y', 0, { lastResort: true, excluded: ['nobody'] })
    policy.admit('z', 0, { lastResort: true, excluded: ['nobody', 'z'] })
    policy.admit('c', 0, { lastResort: true, excluded: ['c'] })
    assert.equal(policy.admit('w', 0), 'elsewhere', 'c still covers chunk 0')
  })

  it('forgets the refusals of a peer that left', () => {
    const { availability, policy } = setup(2)
    assert.equal(policy.admit('x', 0), 'ok')
    availability.peerHave('a', [0])
    assert.equal(policy.admit('y', 0), 'elsewhere')
    policy.removePeer('y')
    assert.equal(policy.admit('y', 0), 'elsewhere', 'a new visit starts a new record')
  })
})

function full (size: number): Bitfield {
  const field = new Bitfield(size)
  field.setAll()
  return field
}
