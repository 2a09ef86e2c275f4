import type { Output } from './output.js'
import type { Settings } from './settings.js'

/** What every command receives: resolved settings, the output channel and the Ctrl-C signal. */
export interface CommandContext {
  settings: Settings
  output: Output
  signal: AbortSignal
}
