// Moved to src/errors.ts with the list of codes; re-exported so existing imports keep working.
export { ShoalError, isShoalError } from '../errors.js'
