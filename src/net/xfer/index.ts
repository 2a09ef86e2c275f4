/** `/shoal/xfer/1.1.0`: the chunk transfer protocol (manifest, bitfield and chunk requests). */
export { XferProtocol, xfer } from './xfer-protocol.js'
export type { XferServiceComponents } from './xfer-protocol.js'
export { XferRejectedError, XferTimeoutError, XferStreamError, XferAbortedError, XferProtocolError } from './errors.js'
export type { XferRejectReason } from './errors.js'
export type { ChunkRequestOptions, XferBitfield, XferClient, XferContentSource, XferComponents, XferInit, XferPeer } from './types.js'
export { XFER_PROTOCOL } from './constants.js'
