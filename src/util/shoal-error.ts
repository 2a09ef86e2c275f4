/**
 * Base class of every error a user of shoal can meet. `code` is stable across releases and is what
 * programs should match on; `message` says what went wrong and, where possible, what to do.
 */
export class ShoalError extends Error {
  readonly code: string

  constructor (code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** True when `err` is a ShoalError carrying `code`. */
export function isShoalError (err: unknown, code?: string): err is ShoalError {
  return err instanceof ShoalError && (code === undefined || err.code === code)
}
