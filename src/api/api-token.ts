import { randomBytes, timingSafeEqual, createHash } from 'node:crypto'
import { constants as fsc } from 'node:fs'
import { link, lstat, mkdir, open, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ShoalError } from '../util/shoal-error.js'
import { ApiErrorCode } from './api-errors.js'
import { TOKEN_BYTES, TOKEN_FILE_NAME } from './constants.js'

/** Where a daemon with this data dir keeps its API token. */
export function tokenFileIn (dataDir: string): string {
  return join(dataDir, TOKEN_FILE_NAME)
}

/** A fresh random API token (base64url). */
export function generateToken (): string {
  return randomBytes(TOKEN_BYTES).toString('base64url')
}

/** Compares a presented token with the expected one in constant time. */
export function tokensEqual (given: string, wanted: string): boolean {
  // hashing first gives both sides the same length, so the comparison leaks nothing, not even length
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(wanted).digest()
  return timingSafeEqual(a, b)
}

const badFile = (file: string, what: string): ShoalError =>
  new ShoalError(ApiErrorCode.BAD_TOKEN_FILE, `API token file ${file} ${what}; delete it (the daemon writes a new one on start) or set SHOAL_API_TOKEN`)

/**
 * Reads a token file, refusing one another local user could have read or planted: it must be a
 * regular file (not a symlink), owned by this user and not readable or writable by group or others.
 * Returns undefined when the file does not exist.
 */
export async function readTokenFile (file: string): Promise<string | undefined> {
  let st
  try {
    st = await lstat(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new ShoalError(ApiErrorCode.BAD_TOKEN_FILE, `cannot read API token file ${file}: ${(err as Error).message}`, { cause: err })
  }
  if (st.isSymbolicLink()) throw badFile(file, 'is a symbolic link')
  if (!st.isFile()) throw badFile(file, 'is not a regular file')
  const uid = process.getuid?.()
  if (uid !== undefined && st.uid !== uid) throw badFile(file, `belongs to uid ${st.uid}, not to this user (uid ${uid})`)
  if ((st.mode & 0o077) !== 0) throw badFile(file, `has mode ${(st.mode & 0o777).toString(8)}: group or others could read it (it must be 600)`)
  // O_NOFOLLOW: a symlink swapped in after the lstat is refused by the kernel
  const handle = await open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW).catch((err: unknown) => {
    throw new ShoalError(ApiErrorCode.BAD_TOKEN_FILE, `cannot read API token file ${file}: ${(err as Error).message}`, { cause: err })
  })
  let text: string
  try {
    text = (await handle.readFile('utf8')).trim()
  } finally {
    await handle.close()
  }
  if (!/^[A-Za-z0-9_-]{16,512}$/.test(text)) throw badFile(file, 'does not hold a token (16 to 512 base64url characters)')
  return text
}

/**
 * The daemon's token: read from `file`, or, on first start, generated and written there with mode
 * 0600. The new file is written under a temporary name and hard-linked into place, so a reader never
 * sees half a token and two daemons starting at once agree on one token (link fails if it exists).
 */
export async function loadOrCreateToken (file: string): Promise<string> {
  const existing = await readTokenFile(file)
  if (existing !== undefined) return existing
  await mkdir(dirname(file), { recursive: true, mode: 0o700 })
  const token = generateToken()
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await open(temp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600)
  try {
    await handle.writeFile(`${token}\n`)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await link(temp, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    await unlink(temp).catch(() => {})
  }
  // whoever linked first won; everyone uses that file's token
  const stored = await readTokenFile(file)
  if (stored === undefined) throw badFile(file, 'vanished while it was being created')
  return stored
}

