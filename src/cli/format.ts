import type { SourceBytes } from '../node/types.js'

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** 1536 -> "1.5 KiB". */
export function formatBytes (n: number): string {
  let value = n
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) { value /= 1024; unit++ }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${UNITS[unit]}`
}

/** 65000 -> "1m05s". */
export function formatDuration (ms: number): string {
  if (!Number.isFinite(ms)) return 'forever'
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}

/** Where received bytes came from, e.g. "92% from peers, 8% from the origin"; '' when nothing was received. */
export function formatSources (received: SourceBytes | undefined): string {
  if (received === undefined) return ''
  const total = received.origin + received.peer + received.upstream
  if (total === 0) return ''
  const pct = (n: number): string => `${Math.round((100 * n) / total)}%`
  const parts = [`${pct(received.peer)} from peers`, `${pct(received.origin)} from the origin`]
  if (received.upstream > 0) parts.push(`${pct(received.upstream)} from upstream`)
  return parts.join(', ')
}
