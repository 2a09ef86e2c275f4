export { Availability } from './availability.js'
export { realClock } from './clock.js'
export type { Clock, TimerHandle } from './clock.js'
export type { AvailabilityObserver, AvailabilityView } from './availability.js'
export type { Picker } from './picker.js'
export { RarestFirstPicker } from './rarest-first-picker.js'
export type { RarestFirstPickerInit } from './rarest-first-picker.js'
export { SwarmSession } from './swarm-session.js'
export type {
  SwarmTransport, ChunkSink, SwarmSessionInit, SwarmSessionEvents, SwarmProgress, SwarmStats, SwarmPeerInfo
} from './swarm-session.js'
export { TokenBucket } from './token-bucket.js'
export type { TokenBucketInit } from './token-bucket.js'
export { UploadSlots } from './upload-slots.js'
export type { UploadSlotsInit } from './upload-slots.js'
export { rareRequest } from './rare-request.js'
export type { RareRequestInit } from './rare-request.js'
export { UploadBacklog } from './upload-backlog.js'
export type { UploadBacklogInit } from './upload-backlog.js'
export { BusyUplinkPolicy } from './busy-uplink-policy.js'
export type { BusyUplinkPolicyInit } from './busy-uplink-policy.js'
export { FirstCopyPolicy } from './first-copy-policy.js'
export type { FirstCopyPolicyInit } from './first-copy-policy.js'
export {
  AbortedError, RequestTimeoutError, RequestCancelledError, PeerDisconnectedError, PeerBusyError,
  ChunkNotHeldError, SwarmStateError
} from './errors.js'
export * as swarmConstants from './constants.js'
