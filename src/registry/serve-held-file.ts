import { createReadStream } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pipeline } from 'node:stream/promises'
import { parseRange } from '../util/parse-range.js'

export interface HeldFileAnswer {
  path: string
  size: number
  contentType: string
  headers: Record<string, string>
  /** Called once the answer is written or the client went away (releases the content's lease). */
  release: () => void
}

/**
 * Answers a GET or HEAD from one verified file on disk, with a single Range (206, 416 when it cannot
 * be satisfied, the whole body when it is malformed). The mirror's one seam to the bytes: it reads the managed store's file today and can
 * switch to the node's streaming read API (the HTTP data plane's) without the routes changing.
 */
export async function serveHeldFile (req: IncomingMessage, res: ServerResponse, answer: HeldFileAnswer): Promise<void> {
  try {
    // the data plane's parser (RFC 9110): a reversed or malformed range is ignored, not refused
    const range = req.headers.range === undefined ? undefined : parseRange(req.headers.range, answer.size)
    const base = { ...answer.headers, 'content-type': answer.contentType, 'accept-ranges': 'bytes' }
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...base, 'content-range': `bytes */${answer.size}`, 'content-length': '0' })
      res.end()
      return
    }
    const { start, end } = range ?? { start: 0, end: answer.size - 1 }
    const length = answer.size === 0 ? 0 : end - start + 1
    res.writeHead(range === undefined ? 200 : 206, {
      ...base,
      'content-length': String(length),
      ...(range === undefined ? {} : { 'content-range': `bytes ${start}-${end}/${answer.size}` })
    })
    if (req.method === 'HEAD' || length === 0) {
      res.end()
      return
    }
    await pipeline(createReadStream(answer.path, { start, end }), res).catch(() => {
      // the client went away or the file vanished mid-read: the socket is closed, nothing else to do
      res.destroy()
    })
  } finally {
    answer.release()
  }
}
