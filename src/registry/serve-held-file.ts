import { createReadStream } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pipeline } from 'node:stream/promises'

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
 * be satisfied). The mirror's one seam to the bytes: it reads the managed store's file today and can
 * switch to the node's streaming read API (the HTTP data plane's) without the routes changing.
 */
export async function serveHeldFile (req: IncomingMessage, res: ServerResponse, answer: HeldFileAnswer): Promise<void> {
  try {
    const range = parseRange(req.headers.range, answer.size)
    const base = { ...answer.headers, 'content-type': answer.contentType, 'accept-ranges': 'bytes' }
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...base, 'content-range': `bytes */${answer.size}`, 'content-length': '0' })
      res.end()
      return
    }
    const [start, end] = range ?? [0, answer.size - 1]
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

/** One `bytes=a-b`, `bytes=a-` or `bytes=-n` range; anything else (several ranges, other units) is ignored. */
export function parseRange (header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header)
  if (m === null || (m[1] === '' && m[2] === '')) return undefined
  if (m[1] === '') {
    const suffix = Number(m[2])
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return [Math.max(0, size - suffix), size - 1]
  }
  const start = Number(m[1])
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  if (start >= size || end < start) return 'unsatisfiable'
  return [start, end]
}
