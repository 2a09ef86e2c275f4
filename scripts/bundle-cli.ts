/**
 * Bundles the compiled CLI (dist/src/cli/main.js and everything it imports) into dist/src/cli/bundle/,
 * whose main.js the `shoal` bin runs. Run by `npm run build` after tsc; the output is generated, never
 * edited.
 *
 * Why: a process start spent ~40% of its CPU resolving and loading ~800 modules one by one
 * (package.json lookups, URL and path work, one ModuleWrap each). Code splitting keeps the CLI's lazy
 * imports lazy: `shoal --version` loads a few small files, a command the ~2 MiB chunk of libp2p
 * (docs/benchmarks.md, session 18, cpu).
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..')
const ENTRY = join(DIST, 'src', 'cli', 'main.js')
/** The bundle's folder, under dist/src so that node_modules resolves from it as from main.js and the package ships it. */
const OUT_DIR = join(DIST, 'src', 'cli', 'bundle')

/**
 * Packages left out of the bundle and loaded from node_modules at run time: classic-level finds its
 * native addon relative to its own folder.
 */
const EXTERNAL = ['classic-level']

const shebang = (await readFile(ENTRY, 'utf8')).split('\n', 1)[0] ?? ''
if (!shebang.startsWith('#!')) throw new Error(`${ENTRY} has no shebang line`)

// chunk names carry a content hash: without this, every build would leave the previous ones behind
await rm(OUT_DIR, { recursive: true, force: true })
await build({
  entryPoints: [ENTRY],
  outdir: OUT_DIR,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  external: EXTERNAL,
  // CommonJS dependencies call require(); an ES module has none, so give the bundle one
  banner: { js: "import { createRequire as __shoalCreateRequire } from 'node:module'\nconst require = __shoalCreateRequire(import.meta.url)" },
  // no identifier renaming: error names and stack traces stay readable
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning'
})
// scripts and docker/entrypoint.sh read the node flags from the bin's shebang: it must survive bundling
const bundledShebang = (await readFile(join(OUT_DIR, 'main.js'), 'utf8')).split('\n', 1)[0]
if (bundledShebang !== shebang) throw new Error(`the bundle's first line is "${bundledShebang}", not main.js's shebang "${shebang}"`)
const files = await readdir(OUT_DIR)
const sizes = await Promise.all(files.map(async f => (await stat(join(OUT_DIR, f))).size))
console.log(`bundle-cli: ${files.length} files in ${OUT_DIR} (${(sizes.reduce((a, b) => a + b, 0) / 1024 / 1024).toFixed(1)} MiB)`)
