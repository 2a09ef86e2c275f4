// The programmatic API: `import { createShoal } from 'shoal'`. Everything exported here is public
// and follows semver; anything else under dist/ is internal.
export { createShoal, Shoal } from './shoal.js'
export type { SeedOptions } from './shoal.js'
export { ShoalNode } from './node/shoal-node.js'
export type { ShoalApi } from './node/shoal-api.js'
export type {
  AddOptions, AddResult, ContentInfo, ContentState, GetOptions, GetResult, NodeStatus, Progress,
  ShoalEvents, ShoalInit, StalledEvent, BannedEvent, PeerEvent, ContentErrorEvent,
  CacheStats, EvictedContent, EvictionReason, GcOptions, GcReport,
  ChunkRequestOutcome, ContentDetail, NodeObserver, SourceBytes, SourceKind, StatOptions, ReadOptions,
  ReadTarget, ContentRead
} from './node/types.js'
export { ErrorCode, ShoalError, isErrorCode, isShoalError } from './errors.js'
export type { ShoalErrorCode } from './errors.js'
export { ControlClient } from './api/control-client.js'
export type { ControlClientInit } from './api/control-client.js'
export type { DaemonEvent } from './api/read-event-stream.js'
export { ControlServer } from './api/control-server.js'
export type { ControlServerInit } from './api/control-server.js'
export { ApiErrorCode } from './api/api-errors.js'
export { EXIT_CODE_OF, ExitCode, exitCodeFor } from './cli/exit-codes.js'
export { HTTP_STATUS_OF } from './api/http-status.js'
export type { ExitCodeValue } from './cli/exit-codes.js'
