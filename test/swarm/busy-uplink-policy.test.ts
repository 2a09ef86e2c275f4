import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Availability } from '../../src/swarm/availability.js'
import { BusyUplinkPolicy } from '../../src/swarm/busy-uplink-policy.js'

function setup (): { availability: Availability, policy: BusyUplinkPolicy, advance: (ms: number) => void } {
  let t = 0
  const availability = new Availability(4)
  const policy = new BusyUplinkPolicy({ availability, backlog: 3, holders: 2, refusalWindowMs: 1_000, now: () => t })
  return { availability, policy, advance: ms => { t += ms } }
}

describe('BusyUplinkPolicy', () => {
  it('with a queue, sends a requester elsewhere for a chunk enough others hold', () => {
    const { availability, policy } = setup()
    availability.peerHave('a', [0, 1])
    availability.peerHave('b', [0])
    assert.equal(policy.admit('x', 0, 2), 'ok', 'no queue yet: serve it')
    assert.equal(policy.admit('x', 0, 3), 'elsewhere', 'queued behind others while a and b hold it')
    assert.equal(policy.admit('x', 1, 3), 'ok', 'only a holds it: we are one of its few sources')
    assert.equal(policy.admit('x', 2, 10), 'ok', 'nobody else holds it')
  })

  it('refuses one peer one chunk only within the refusal window: claims are unchecked', () => {
    const { availability, policy, advance } = setup()
    availability.peerHave('a', [0])
    availability.peerHave('b', [0])
    assert.equal(policy.admit('x', 0, 5), 'elsewhere')
    advance(500)
    assert.equal(policy.admit('x', 0, 5), 'elsewhere')
    advance(600)
    assert.equal(policy.admit('x', 0, 5), 'ok', 'x still asks after the window: its other sources failed it')
    policy.removePeer('x')
    assert.equal(policy.admit('x', 0, 5), 'elsewhere', 'a new record for a peer that came back')
  })

  it("does not count a first seeder's copy: it would send the requester back", () => {
    const availability = new Availability(2)
    const policy = new BusyUplinkPolicy({ availability, backlog: 3, holders: 2, origins: () => ['seed'], now: () => 0 })
    availability.peerHave('seed', [0, 1])
    availability.peerHave('a', [0, 1])
    availability.peerHave('b', [1])
    assert.equal(policy.admit('x', 0, 5), 'ok', 'only a holds it besides the seeder')
    assert.equal(policy.admit('x', 1, 5), 'elsewhere', 'a and b hold it')
  })
})
