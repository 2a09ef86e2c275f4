import { describeError } from './describe-error.js'
import { ExitCode, exitCodeFor, type ExitCodeValue } from './exit-codes.js'

export interface OutputOptions {
  json?: boolean
  quiet?: boolean
  debug?: boolean
}

/**
 * Where a command's words go. Human text goes to stdout (stderr for errors); with --json, stdout
 * carries exactly one JSON object per line and nothing else, so it parses; --quiet keeps only the
 * result and errors.
 */
export class Output {
  readonly json: boolean
  readonly quiet: boolean
  readonly debug: boolean

  constructor (options: OutputOptions = {}) {
    this.json = options.json === true
    this.quiet = options.quiet === true
    this.debug = options.debug === true
  }

  /** A line of commentary a human wants and a script does not. */
  info (text: string): void {
    if (!this.json && !this.quiet) process.stdout.write(text + '\n')
  }

  /** A JSON event line (only with --json). */
  event (type: string, fields: Record<string, unknown>): void {
    if (this.json) process.stdout.write(JSON.stringify({ type, ...fields }) + '\n')
  }

  /**
   * Something the user set that does not do what they think (a retired setting): stderr in every
   * mode, --quiet too (it is about their configuration, not commentary), so --json's stdout stays parseable.
   */
  warn (text: string): void {
    process.stderr.write(`shoal: ${text}\n`)
  }

  /** The command's result: JSON with --json, else the human text (printed even with --quiet). */
  result (value: Record<string, unknown>, human: string): void {
    if (this.json) process.stdout.write(JSON.stringify({ type: 'result', ...value }) + '\n')
    else if (human !== '') process.stdout.write(human + '\n')
  }

  /** Reports an error in one line (a stack only with --debug) and returns the exit code to use. */
  error (err: unknown): ExitCodeValue {
    const { code, message } = describeError(err)
    const exit = exitCodeFor(code)
    if (this.json) {
      process.stdout.write(JSON.stringify({ type: 'error', code: code ?? 'ERR_INTERNAL', message, exitCode: exit }) + '\n')
    }
    process.stderr.write(`shoal: ${message}${code !== undefined && exit !== ExitCode.FAILURE ? '' : ' (run with --debug for details)'}\n`)
    if (this.debug && err instanceof Error && err.stack !== undefined) process.stderr.write(err.stack + '\n')
    return exit
  }
}
