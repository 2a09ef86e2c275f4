import type { Progress } from '../node/types.js'
import type { Output } from './output.js'
import { formatBytes, formatDuration } from './format.js'

const TTY_INTERVAL_MS = 200
const PLAIN_INTERVAL_MS = 5000
const BAR_WIDTH = 28

/**
 * Shows download progress: a live bar redrawn in place on a TTY, a plain line every few seconds
 * otherwise (logs, CI), one JSON event per update with --json, nothing with --quiet.
 */
export class ProgressReporter {
  readonly #output: Output
  readonly #tty: boolean
  readonly #stream: NodeJS.WritableStream
  #last = 0
  #drawn = false
  #sawChunk = false

  constructor (output: Output, stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout) {
    this.#output = output
    this.#stream = stream
    this.#tty = stream.isTTY === true && !output.json
  }

  update (p: Progress, force = false): void {
    const now = Date.now()
    // the first chunk is shown at once, not up to an interval late: it times a receiver's start (bench)
    if (!this.#sawChunk && p.have > 0) {
      this.#sawChunk = true
      force = true
    }
    const interval = this.#output.json ? 1000 : this.#tty ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS
    if (!force && now - this.#last < interval) return
    this.#last = now
    if (this.#output.json) {
      this.#output.event('progress', { ...p })
      return
    }
    if (this.#output.quiet) return
    const line = describe(p)
    if (this.#tty) {
      const fraction = p.total === 0 ? 1 : p.have / p.total
      const filled = Math.round(fraction * BAR_WIDTH)
      this.#stream.write(`\r\x1b[2K[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${line}`)
      this.#drawn = true
    } else {
      this.#stream.write(line + '\n')
    }
  }

  /** Ends the live line so the next output starts on a fresh line. */
  finish (): void {
    if (this.#drawn) this.#stream.write('\n')
    this.#drawn = false
  }
}

function describe (p: Progress): string {
  const percent = p.total === 0 ? 100 : (100 * p.have) / p.total
  const eta = p.etaSeconds === undefined ? '--' : formatDuration(p.etaSeconds * 1000)
  return `${percent.toFixed(1).padStart(5)}%  ${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)}  ${formatBytes(p.rateBps)}/s  ${p.peers} peers  ETA ${eta}`
}
