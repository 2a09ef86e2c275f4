import type { FileHandle } from 'node:fs/promises'

/** Writes all of `buf` at `position`, looping over short writes. */
export async function writeFully (handle: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < buf.length) {
    const { bytesWritten } = await handle.write(buf, done, buf.length - done, position + done)
    done += bytesWritten
  }
}

/** Reads exactly `length` bytes at `position`; returns fewer only when the file ends first. */
export async function readFully (handle: FileHandle, length: number, position: number): Promise<Uint8Array> {
  // Not zero-filled: the read overwrites every byte returned, so zeroing a fresh buffer per chunk
  // served is a wasted pass over memory. Its own backing store, never a slice of Node's shared pool.
  const buf = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length)
  let done = 0
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, position + done)
    // a copy, so the bytes never read stay unreachable through .buffer
    if (bytesRead === 0) return buf.slice(0, done)
    done += bytesRead
  }
  return buf
}
