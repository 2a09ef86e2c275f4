import { noise } from '@chainsafe/libp2p-noise'
import { noiseCrypto } from './noise-crypto.js'
import type { NoiseComponents, NoiseExtensions } from '@chainsafe/libp2p-noise'
import type { ConnectionEncrypter, MessageStream } from '@libp2p/interface'

/**
 * The Noise encrypter shoal nodes use: @chainsafe/libp2p-noise with a cached cipher key per session
 * (noise-crypto.ts) and one socket write per encrypted send. Noise hands the transport a list of
 * [2-byte length, ciphertext] pairs, one pair per 64 KiB, and the TCP transport writes every element
 * separately: two write(2) calls and a 2-byte TCP segment per 64 KiB sent. Joining the list first
 * costs one memory copy of what is sent. The bytes on the wire are unchanged.
 */
export function shoalNoise (): (components: NoiseComponents) => ConnectionEncrypter<NoiseExtensions> {
  const factory = noise({ crypto: noiseCrypto })
  return (components) => {
    const encrypter = factory(components)
    return {
      protocol: encrypter.protocol,
      secureInbound: async (connection, options) => await encrypter.secureInbound(joinWrites(connection), options),
      secureOutbound: async (connection, options) => await encrypter.secureOutbound(joinWrites(connection), options)
    }
  }
}

/** Makes `connection.send` pass a list of buffers on as one buffer. */
function joinWrites (connection: MessageStream): MessageStream {
  const send = connection.send.bind(connection)
  // subarray() of a one-buffer list is that buffer, not a copy
  connection.send = (data) => send(data instanceof Uint8Array ? data : data.subarray())
  return connection
}
