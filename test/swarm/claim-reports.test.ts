import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ClaimReports } from '../../src/swarm/claim-reports.js'
import { MAX_EXCLUDED_PER_REQUEST, MAX_REPORTED_PEERS } from '../../src/swarm/constants.js'

describe('ClaimReports', () => {
  it('makes a peer a suspect once enough distinct askers named it', () => {
    const reports = new ClaimReports(2)
    reports.report('a', ['c'])
    reports.report('a', ['c'])
    assert.equal(reports.suspects.includes('c'), false, 'the same asker twice is one report')
    reports.report('b', ['c', 'd'])
    assert.equal(reports.suspects.includes('c'), true)
    assert.equal(reports.suspects.includes('d'), false)
    assert.deepEqual(reports.suspects, ['c'])
  })

  it('ignores an asker naming itself', () => {
    const reports = new ClaimReports(1)
    reports.report('a', ['a'])
    assert.equal(reports.suspects.includes('a'), false)
  })

  it('reads at most MAX_EXCLUDED_PER_REQUEST names of one report and tracks at most MAX_REPORTED_PEERS peers', () => {
    const reports = new ClaimReports(1)
    const names = Array.from({ length: MAX_EXCLUDED_PER_REQUEST + 1 }, (_, i) => `p${i}`)
    reports.report('a', names)
    assert.equal(reports.suspects.length, MAX_EXCLUDED_PER_REQUEST)
    assert.equal(reports.suspects.includes(names.at(-1)!), false)
    for (let i = 0; reports.suspects.length < MAX_REPORTED_PEERS; i++) reports.report('a', Array.from({ length: MAX_EXCLUDED_PER_REQUEST }, (_, j) => `q${i}-${j}`))
    reports.report('b', ['late'])
    assert.equal(reports.suspects.length, MAX_REPORTED_PEERS)
    assert.equal(reports.suspects.includes('late'), false, 'a full record takes no new peer')
  })

  it('forgets a peer that left, as reporter and as reported', () => {
    const reports = new ClaimReports(2)
    reports.report('a', ['c'])
    reports.report('b', ['c'])
    reports.report('c', ['a'])
    reports.removePeer('b')
    assert.equal(reports.suspects.includes('c'), false, "b's report left with b")
    reports.report('b', ['c'])
    assert.equal(reports.suspects.includes('c'), true)
    reports.removePeer('c')
    assert.equal(reports.suspects.length, 0)
    reports.report('d', ['c'])
    assert.equal(reports.suspects.includes('c'), false, 'c came back with a clean record')
  })
})
