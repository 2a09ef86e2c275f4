// The programmatic API: `import { createShoal } from 'shoal'`. Everything exported here is public
// and follows semver; anything else under dist/ is internal.
export { createShoal, Shoal } from './shoal.js'
export type { SeedOptions } from './shoal.js'
export { ShoalNode } from './node/shoal-node.js'
export type { ShoalApi } from './node/shoal-api.js'
export type {
  AddOptions, AddResult, ContentInfo, ContentState, GetOptions, GetResult, NodeStatus, Progress,
  ShoalEvents, ShoalInit, StalledEvent
} from './node/types.js'
export { ShoalError, isShoalError } from './util/shoal-error.js'
export { ControlClient } from './api/control-client.js'
export type { ControlClientInit } from './api/control-client.js'
export { ControlServer } from './api/control-server.js'
export type { ControlServerInit } from './api/control-server.js'
export { ApiErrorCode } from './api/api-errors.js'
export { ExitCode, exitCodeFor } from './cli/exit-codes.js'
export type { ExitCodeValue } from './cli/exit-codes.js'
