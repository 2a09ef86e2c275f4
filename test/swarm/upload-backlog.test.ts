import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { UploadBacklog } from '../../src/swarm/upload-backlog.js'

function clock (): { now: () => number, advance: (ms: number) => void } {
  let t = 0
  return { now: () => t, advance: ms => { t += ms } }
}

describe('UploadBacklog', () => {
  it('is idle with at most the upload on the wire left', () => {
    const c = clock()
    const backlog = new UploadBacklog({ horizonMs: 1_000, now: c.now })
    assert.equal(backlog.idle, true)
    backlog.admitted('a', 'cid 1')
    assert.equal(backlog.idle, true, 'one upload: it is on the wire, the next request keeps the uplink busy')
    backlog.admitted('b', 'cid 2')
    assert.equal(backlog.idle, false)
    backlog.sent('a', 'cid 1')
    assert.equal(backlog.idle, true)
    assert.equal(backlog.size, 1)
  })

  it('forgets uploads never reported sent after the horizon, and a gone peer at once', () => {
    const c = clock()
    const backlog = new UploadBacklog({ horizonMs: 1_000, now: c.now })
    backlog.admitted('a', 'cid 1')
    c.advance(600)
    backlog.admitted('b', 'cid 2')
    backlog.admitted('b', 'cid 3')
    assert.equal(backlog.size, 3)
    c.advance(500)
    assert.equal(backlog.size, 2, "a's upload was cancelled or its stream died: it stops counting")
    backlog.removePeer('b')
    assert.equal(backlog.size, 0)
  })

  it('counts a re-admitted upload once, from its new time', () => {
    const c = clock()
    const backlog = new UploadBacklog({ horizonMs: 1_000, now: c.now })
    backlog.admitted('a', 'cid 1')
    c.advance(900)
    backlog.admitted('a', 'cid 1')
    backlog.admitted('a', 'cid 2')
    c.advance(200)
    assert.equal(backlog.size, 2)
  })
})
