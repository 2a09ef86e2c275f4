import type { ServerResponse } from 'node:http'
import type { ShoalNode } from '../node/shoal-node.js'
import type { ShoalEvents } from '../node/types.js'
import { ShoalError } from '../util/shoal-error.js'
import { ApiErrorCode } from './api-errors.js'
import { EVENT_HEARTBEAT_MS, MAX_EVENT_STREAMS } from './constants.js'

/** The node events a stream carries, by their SSE event name. */
export const STREAMED_EVENTS = ['progress', 'peer', 'stalled', 'banned', 'done', 'error'] as const

export interface EventStreamsInit {
  maxStreams?: number
  heartbeatMs?: number
}

/**
 * GET /v1/events: the node's typed events as server-sent events, one `event:` name and one JSON
 * `data:` line each. A stream whose reader falls behind loses events (it is told by a `dropped`
 * event) rather than making the daemon buffer without bound; at most `maxStreams` are open.
 */
export class EventStreams {
  readonly #max: number
  readonly #heartbeat: number
  #open = 0

  constructor (init: EventStreamsInit = {}) {
    this.#max = init.maxStreams ?? MAX_EVENT_STREAMS
    this.#heartbeat = init.heartbeatMs ?? EVENT_HEARTBEAT_MS
  }

  /** Serves one stream on `res` until the client goes away or the server closes the connection. */
  serve (node: ShoalNode, res: ServerResponse): void {
    if (this.#open >= this.#max) {
      throw new ShoalError(ApiErrorCode.TOO_MANY_STREAMS, `${this.#max} event streams are open already; close one (or read the JSON routes instead)`)
    }
    this.#open++
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' })
    res.write(': shoal events\n\n')
    let dropped = 0
    const send = (name: string, data: unknown): void => {
      // a full socket buffer: count what is lost, tell the reader once it drains
      if (res.writableNeedDrain) {
        dropped++
        return
      }
      if (dropped > 0) {
        res.write(`event: dropped\ndata: ${JSON.stringify({ events: dropped })}\n\n`)
        dropped = 0
      }
      res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`)
    }
    const listeners = STREAMED_EVENTS.map(name => {
      const listener = (evt: ShoalEvents[typeof name]): void => { send(name, eventData(name, evt.detail)) }
      node.addEventListener(name, listener as never)
      return () => { node.removeEventListener(name, listener as never) }
    })
    const heartbeat = setInterval(() => { if (!res.writableNeedDrain) res.write(': keep-alive\n\n') }, this.#heartbeat)
    heartbeat.unref()
    res.once('close', () => {
      this.#open--
      clearInterval(heartbeat)
      for (const off of listeners) off()
    })
  }
}

/** An event's detail as JSON can carry it (an Error becomes its code and message). */
function eventData (name: typeof STREAMED_EVENTS[number], detail: unknown): unknown {
  if (name !== 'error') return detail
  const { cid, error } = detail as ShoalEvents['error']['detail']
  return { cid, code: (error as { code?: string }).code ?? 'ERR_INTERNAL', message: error.message }
}
