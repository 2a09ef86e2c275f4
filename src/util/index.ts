export { Bitfield } from './bitfield.js'
export { ShoalError, isShoalError } from './shoal-error.js'
