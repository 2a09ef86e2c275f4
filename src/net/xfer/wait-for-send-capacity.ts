import { XferStreamError } from './errors.js'
import type { Stream } from '@libp2p/interface'

/**
 * Resolves once `stream` has room for more data: the transport is not asking for a drain and at
 * most `lowWater` bytes wait in its write buffer.
 *
 * Not `stream.onDrain()`: in @libp2p/utils 7 its promise is created once and never reset, so after
 * the first drain it resolves at once forever and the write buffer grows until the stream resets.
 * This waits for each 'drain' / 'idle' event afresh instead.
 */
export async function waitForSendCapacity (stream: Stream, lowWater: number, signal?: AbortSignal): Promise<void> {
  while (stream.writableNeedsDrain || stream.writeBufferLength > lowWater) {
    signal?.throwIfAborted()
    if (stream.status !== 'open' || stream.writeStatus !== 'writable') {
      throw new XferStreamError(`the transfer stream is ${stream.status}`)
    }
    await new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        stream.removeEventListener('drain', onWake)
        stream.removeEventListener('idle', onWake)
        stream.removeEventListener('close', onClose)
        signal?.removeEventListener('abort', onAbort)
      }
      const onWake = (): void => { cleanup(); resolve() }
      const onClose = (): void => { cleanup(); reject(new XferStreamError('the transfer stream closed while sending')) }
      const onAbort = (): void => { cleanup(); reject(signal?.reason as Error) }
      stream.addEventListener('drain', onWake)
      stream.addEventListener('idle', onWake)
      stream.addEventListener('close', onClose)
      signal?.addEventListener('abort', onAbort)
    })
  }
}
