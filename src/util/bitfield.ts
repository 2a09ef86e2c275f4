import { ShoalError } from './shoal-error.js'

/**
 * A fixed-length set of chunk indexes, stored one bit per chunk, most significant bit first
 * (the BitTorrent layout), so the bytes can go on the wire and to disk unchanged.
 */
export class Bitfield {
  readonly length: number
  readonly bytes: Uint8Array
  #count = 0

  constructor (length: number, bytes?: Uint8Array) {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new ShoalError('ERR_BAD_BITFIELD', `bitfield length must be a non-negative integer, got ${length}`)
    }
    this.length = length
    const size = Math.ceil(length / 8)
    if (bytes === undefined) {
      this.bytes = new Uint8Array(size)
      return
    }
    if (bytes.length !== size) {
      throw new ShoalError('ERR_BAD_BITFIELD', `bitfield of ${length} bits needs ${size} bytes, got ${bytes.length}`)
    }
    const spare = size * 8 - length
    if (spare > 0 && (bytes[size - 1]! & ((1 << spare) - 1)) !== 0) {
      throw new ShoalError('ERR_BAD_BITFIELD', 'bitfield has bits set past its length')
    }
    this.bytes = Uint8Array.from(bytes)
    for (const b of this.bytes) this.#count += popcount(b)
  }

  /** Number of set bits. */
  get count (): number {
    return this.#count
  }

  /** True when every index is set. */
  get complete (): boolean {
    return this.#count === this.length
  }

  has (index: number): boolean {
    if (index < 0 || index >= this.length || !Number.isInteger(index)) return false
    return (this.bytes[index >> 3]! & (0x80 >> (index & 7))) !== 0
  }

  /** Sets a bit; returns true when it was not set before. */
  set (index: number): boolean {
    this.#check(index)
    const mask = 0x80 >> (index & 7)
    const byte = this.bytes[index >> 3]!
    if ((byte & mask) !== 0) return false
    this.bytes[index >> 3] = byte | mask
    this.#count++
    return true
  }

  /** Clears a bit; returns true when it was set before. */
  clear (index: number): boolean {
    this.#check(index)
    const mask = 0x80 >> (index & 7)
    const byte = this.bytes[index >> 3]!
    if ((byte & mask) === 0) return false
    this.bytes[index >> 3] = byte & ~mask
    this.#count--
    return true
  }

  setAll (): void {
    for (let i = 0; i < this.length; i++) this.set(i)
  }

  /** Iterates the set indexes in ascending order. */
  * indexes (): Generator<number> {
    for (let byteIndex = 0; byteIndex < this.bytes.length; byteIndex++) {
      const byte = this.bytes[byteIndex]!
      if (byte === 0) continue
      for (let bit = 0; bit < 8; bit++) {
        if ((byte & (0x80 >> bit)) !== 0) yield byteIndex * 8 + bit
      }
    }
  }

  clone (): Bitfield {
    return new Bitfield(this.length, this.bytes)
  }

  #check (index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new ShoalError('ERR_BAD_INDEX', `chunk index ${index} is outside 0..${this.length - 1}`)
    }
  }
}

function popcount (b: number): number {
  let n = 0
  while (b !== 0) { b &= b - 1; n++ }
  return n
}
