import assert from 'node:assert/strict'
import { globSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}
/** Dev tools run by npm scripts or the editor, never imported. */
const TOOLS = new Set(['@types/node', 'eslint', 'node', 'protons', 'typescript'])

/** Module specifiers a file imports (static, re-exports, dynamic with a literal), read with the TypeScript parser so strings and regexes that merely look like imports do not count. */
function importSpecifiers (file: string, code: string): string[] {
  const specs: string[] = []
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      specs.push(node.moduleSpecifier.text)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] !== undefined && ts.isStringLiteral(node.arguments[0])) {
      specs.push(node.arguments[0].text)
    }
    ts.forEachChild(node, visit)
  }
  visit(ts.createSourceFile(file, code, ts.ScriptTarget.Latest, false))
  return specs
}

/** Package names imported by the files matching `patterns`, each with one importer. */
function importedPackages (patterns: string[]): Map<string, string> {
  const found = new Map<string, string>()
  for (const file of patterns.flatMap(pattern => globSync(pattern, { cwd: ROOT }))) {
    for (const spec of importSpecifiers(file, readFileSync(join(ROOT, file), 'utf8'))) {
      if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!
      if (!found.has(name)) found.set(name, file)
    }
  }
  return found
}

describe('package.json dependencies', () => {
  const runtime = importedPackages(['src/**/*.ts'])
  const all = importedPackages(['src/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts', 'examples/**/*.ts', 'eslint.config.js'])

  it('declares every package src imports as a dependency (it ships without devDependencies)', () => {
    const missing = [...runtime].filter(([name]) => pkg.dependencies[name] === undefined).map(([name, file]) => `${name} (${file})`)
    assert.deepEqual(missing, [])
  })

  it('declares every package tests, scripts and examples import', () => {
    const missing = [...all]
      .filter(([name]) => pkg.dependencies[name] === undefined && pkg.devDependencies[name] === undefined)
      .map(([name, file]) => `${name} (${file})`)
    assert.deepEqual(missing, [])
  })

  it('lists no dependency that src does not import, and no dev dependency nothing uses', () => {
    assert.deepEqual(Object.keys(pkg.dependencies).filter(name => !runtime.has(name)), [])
    assert.deepEqual(Object.keys(pkg.devDependencies).filter(name => !all.has(name) && !TOOLS.has(name)), [])
  })
})
