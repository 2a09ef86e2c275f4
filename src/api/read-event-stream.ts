import { ErrorCode, ShoalError } from '../errors.js'

/** One server-sent event of GET /v1/events: its `event:` name and its `data:` parsed as JSON. */
export interface DaemonEvent {
  event: string
  data: unknown
}

/** The longest line accepted; the daemon's events are one short JSON line each. */
export const MAX_EVENT_LINE_BYTES = 1024 * 1024

/**
 * Reads a text/event-stream body as the daemon writes it (src/api/event-stream.ts): `event:` and
 * `data:` lines ending in a blank line, `:` comments (the greeting and keep-alives) skipped. Only
 * what that writer emits is understood; no ids, retries or reconnection. A line over
 * MAX_EVENT_LINE_BYTES or data that is not JSON ends the stream with ERR_DAEMON.
 */
export async function * readEventStream (body: AsyncIterable<Uint8Array>): AsyncGenerator<DaemonEvent> {
  const decoder = new TextDecoder()
  let pending = ''
  let name = 'message'
  let data: string[] = []
  for await (const bytes of body) {
    pending += decoder.decode(bytes, { stream: true })
    let end: number
    while ((end = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, end).replace(/\r$/, '')
      pending = pending.slice(end + 1)
      if (line === '') {
        if (data.length > 0) yield { event: name, data: parseData(name, data.join('\n')) }
        name = 'message'
        data = []
      } else if (line.startsWith('event:')) {
        name = line.slice(6).trim()
      } else if (line.startsWith('data:')) {
        data.push(line.slice(5).trimStart())
      }
    }
    if (pending.length > MAX_EVENT_LINE_BYTES) throw new ShoalError(ErrorCode.DAEMON, `the daemon's event stream sent a line over ${MAX_EVENT_LINE_BYTES} bytes`)
  }
}

function parseData (name: string, text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new ShoalError(ErrorCode.DAEMON, `the daemon's '${name}' event is not JSON: ${text.slice(0, 80)}`)
  }
}
