// The one list of error codes (src/errors.ts) against its maps, the sources and the docs: a code
// nobody throws, a literal not in the list, or a table that drifted from the list fails here.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { ErrorCode, isErrorCode, ShoalError, type ShoalErrorCode } from '../src/errors.js'
import { EXIT_CODE_OF, ExitCode, exitCodeFor } from '../src/cli/exit-codes.js'
import { HTTP_STATUS_OF, statusFor } from '../src/api/http-status.js'

// dist/test -> the repository root
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SRC = join(ROOT, 'src')
// where the list and its maps are written: a mention there is not a use
const LIST_FILES = new Set(['errors.ts', join('cli', 'exit-codes.ts'), join('api', 'http-status.ts')])
const CODE_TEXT = /^ERR_[A-Z0-9_]+$/

const KEYS = Object.keys(ErrorCode) as Array<keyof typeof ErrorCode>
const CODES = Object.values(ErrorCode) as ShoalErrorCode[]

async function sourceFiles (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...await sourceFiles(path))
    else if (entry.name.endsWith('.ts')) out.push(path)
  }
  return out.sort()
}

/** Every `'ERR_…'` string literal and every `…ErrorCode.KEY` access in src/, outside the list files. */
async function scanSources (): Promise<{ literals: Map<string, string[]>, keys: Set<string> }> {
  const literals = new Map<string, string[]>()
  const keys = new Set<string>()
  for (const path of await sourceFiles(SRC)) {
    const rel = relative(SRC, path)
    if (LIST_FILES.has(rel)) continue
    const file = ts.createSourceFile(path, await readFile(path, 'utf8'), ts.ScriptTarget.Latest, true)
    const visit = (node: ts.Node): void => {
      if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && CODE_TEXT.test(node.text)) {
        literals.set(node.text, [...(literals.get(node.text) ?? []), rel])
      } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text.endsWith('ErrorCode')) {
        keys.add(node.name.text)
      }
      ts.forEachChild(node, visit)
    }
    visit(file)
  }
  return { literals, keys }
}

/** The doc comment above each key of ErrorCode in src/errors.ts, on one line: the code's meaning. */
async function meanings (): Promise<Map<string, string>> {
  const text = await readFile(join(SRC, 'errors.ts'), 'utf8')
  const file = ts.createSourceFile('errors.ts', text, ts.ScriptTarget.Latest, true)
  const out = new Map<string, string>()
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === 'ErrorCode' && node.initializer !== undefined) {
      let init: ts.Expression = node.initializer
      while (ts.isAsExpression(init) || ts.isParenthesizedExpression(init)) init = init.expression
      assert.ok(ts.isObjectLiteralExpression(init), 'ErrorCode is an object literal')
      for (const prop of init.properties) {
        assert.ok(ts.isPropertyAssignment(prop) && ts.isIdentifier(prop.name), 'every entry of ErrorCode is KEY: \'ERR_…\'')
        const docs = (ts.getLeadingCommentRanges(text, prop.getFullStart()) ?? [])
          .map(r => text.slice(r.pos, r.end)).filter(c => c.startsWith('/**'))
        const doc = docs[docs.length - 1]
        out.set(prop.name.text, doc === undefined ? '' : doc.replace(/^\/\*\*|\*\/$/g, '').replace(/^\s*\*\s?/gm, '').replace(/\s+/g, ' ').trim())
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  return out
}

/** The rows docs/errors.md must hold, in the order of the list. */
async function expectedTable (): Promise<string[]> {
  const meaning = await meanings()
  return KEYS.map(key => {
    const code = ErrorCode[key]
    return `| \`${code}\` | ${meaning.get(key)!.replace(/\|/g, '\\|')} | ${EXIT_CODE_OF[code]} | ${HTTP_STATUS_OF[code]} |`
  })
}

describe('error codes', () => {
  it('each key names its code (KEY: \'ERR_KEY\') and no code is listed twice', () => {
    for (const key of KEYS) assert.equal(ErrorCode[key], `ERR_${key}`)
    assert.equal(new Set(CODES).size, CODES.length)
  })

  it('every code has a one-line meaning in src/errors.ts', async () => {
    const meaning = await meanings()
    assert.deepEqual([...meaning.keys()], KEYS)
    for (const key of KEYS) assert.ok(meaning.get(key) !== '', `ErrorCode.${key} has a doc comment`)
  })

  it('every code has an exit code and an HTTP status, and the maps hold nothing else', () => {
    const exits = new Set<number>(Object.values(ExitCode))
    assert.deepEqual(Object.keys(EXIT_CODE_OF).sort(), [...CODES].sort())
    assert.deepEqual(Object.keys(HTTP_STATUS_OF).sort(), [...CODES].sort())
    for (const code of CODES) {
      assert.ok(exits.has(EXIT_CODE_OF[code]) && EXIT_CODE_OF[code] !== ExitCode.OK, `${code} exits with a failure code`)
      const status = HTTP_STATUS_OF[code]
      assert.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code} answers an error status, not ${status}`)
      assert.equal(exitCodeFor(code), EXIT_CODE_OF[code])
      assert.equal(statusFor(new ShoalError(code, 'x')), status)
    }
  })

  it('every code is thrown or used in src/, and src/ writes no code that is not in the list', async () => {
    const { literals, keys } = await scanSources()
    const unused = KEYS.filter(key => !keys.has(key) && !literals.has(ErrorCode[key]))
    assert.deepEqual(unused.map(key => ErrorCode[key]), [], 'listed but never thrown or used: throw them or delete them')
    const unknown = [...literals].filter(([code]) => !isErrorCode(code)).map(([code, files]) => `${code} (${files.join(', ')})`)
    assert.deepEqual(unknown, [], 'written in src/ but not in src/errors.ts')
  })

  it('docs/errors.md holds exactly the table of the list', async () => {
    const doc = (await readFile(join(ROOT, 'docs', 'errors.md'), 'utf8')).split('\n')
    const rows = doc.filter(line => line.startsWith('| `ERR_'))
    const expected = await expectedTable()
    assert.deepEqual(rows, expected, `docs/errors.md rows differ from src/errors.ts; the table should read:\n${expected.join('\n')}\n`)
  })

  it('docs/control-api.md lists every code under its HTTP status', async () => {
    const doc = (await readFile(join(ROOT, 'docs', 'control-api.md'), 'utf8')).split('\n')
    for (const code of CODES) {
      const status = String(HTTP_STATUS_OF[code])
      const rows = doc.filter(line => /^\| \d{3} \|/.test(line) && line.includes(`\`${code}\``))
      assert.deepEqual(rows.map(line => line.slice(2, 5)), [status], `${code} appears once, in the ${status} row`)
    }
  })

  it('README.md and docs/cli.md list every exit code', async () => {
    for (const name of ['README.md', join('docs', 'cli.md')]) {
      const rows = (await readFile(join(ROOT, name), 'utf8')).split('\n').filter(line => /^\| \d+ \|/.test(line))
      assert.deepEqual(rows.map(line => Number(line.split('|')[1])), [...new Set(Object.values(ExitCode))].sort((a, b) => a - b), name)
    }
  })

  it('a code from elsewhere (a newer daemon, Object.prototype) is not taken for one of ours', () => {
    assert.equal(isErrorCode('ERR_FROM_THE_FUTURE'), false)
    assert.equal(isErrorCode('constructor'), false)
    assert.equal(exitCodeFor('constructor'), ExitCode.FAILURE)
    assert.equal(exitCodeFor('toString'), ExitCode.FAILURE)
    assert.equal(exitCodeFor(undefined), ExitCode.FAILURE)
    assert.equal(exitCodeFor('EACCES'), ExitCode.IO)
    assert.equal(exitCodeFor('ENOSPC'), ExitCode.DISK_FULL)
    assert.equal(statusFor(new Error('plain')), 500)
  })
})
