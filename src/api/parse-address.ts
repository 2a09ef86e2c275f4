import { ShoalError } from '../util/shoal-error.js'

/** Parses `host:port` (or `[v6]:port`, or a bare port meaning 127.0.0.1). */
export function parseAddress (text: string): { host: string, port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text.trim()) ?? /^()()(\d{1,5})$/.exec(text.trim())
  const port = m === null ? NaN : Number(m[3])
  if (m === null || port < 0 || port > 65535) {
    throw new ShoalError('ERR_BAD_CONFIG', `control API address "${text}" is not host:port (e.g. 127.0.0.1:7070)`)
  }
  // a bare port leaves both host groups empty: bind loopback
  const host = m[1] !== undefined && m[1] !== '' ? m[1] : m[2] !== undefined && m[2] !== '' ? m[2] : '127.0.0.1'
  return { host, port }
}
