import { existsSync } from 'node:fs'
import { join } from 'node:path'

/**
 * An offline Dockerfile check, since hadolint is not packaged for Debian and `docker build --check`
 * needs an engine. It encodes the rules issue 6 sets for docker/Dockerfile plus common lint rules.
 */

const KNOWN = new Set(['FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL'])
export const BASE_IMAGE = 'node:24-bookworm-slim'

export interface Instruction { line: number, keyword: string, args: string }

/** Splits a Dockerfile into instructions (continuations joined, comments dropped). */
export function parseDockerfile (text: string): Instruction[] {
  const out: Instruction[] = []
  let pending = ''
  let start = 0
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd()
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) return
    if (pending !== '' && line.trim().startsWith('#')) return
    if (pending === '') start = i + 1
    if (line.endsWith('\\')) { pending += line.slice(0, -1) + ' '; return }
    const full = (pending + line).trim()
    pending = ''
    const m = /^(\S+)\s*(.*)$/.exec(full)
    if (m !== null) out.push({ line: start, keyword: m[1]!.toUpperCase(), args: m[2]! })
  })
  return out
}

/** Returns every problem found in `text` (empty when it passes); `root` is the build context. */
export function lintDockerfile (text: string, root: string, ignored: string[] = []): string[] {
  const problems: string[] = []
  const ins = parseDockerfile(text)
  const stages: Array<{ name: string | undefined, body: Instruction[] }> = []
  for (const i of ins) {
    if (!KNOWN.has(i.keyword)) problems.push(`line ${i.line}: unknown instruction ${i.keyword}`)
    if (i.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.args)
      if (m === null) { problems.push(`line ${i.line}: cannot parse FROM ${i.args}`); continue }
      const image = m[1]!
      const earlier = stages.some(s => s.name === image)
      if (!earlier && image !== BASE_IMAGE) problems.push(`line ${i.line}: base image ${image} is not the official ${BASE_IMAGE}`)
      if (m[2] !== undefined && stages.some(s => s.name === m[2])) problems.push(`line ${i.line}: stage name ${m[2]} used twice`)
      stages.push({ name: m[2], body: [] })
      continue
    }
    if (stages.length === 0) {
      if (i.keyword !== 'ARG') problems.push(`line ${i.line}: ${i.keyword} before the first FROM`)
      continue
    }
    stages[stages.length - 1]!.body.push(i)
  }
  if (stages.length < 2) problems.push('not a multi-stage build: want a build stage and a runtime stage')
  const all = stages.flatMap(s => s.body)
  for (const i of all) {
    if (i.keyword === 'ADD' && /https?:\/\//.test(i.args)) problems.push(`line ${i.line}: ADD of a URL; download in a RUN with a checksum instead`)
    if (i.keyword === 'RUN' && /apt-get install/.test(i.args) && !/--no-install-recommends/.test(i.args)) problems.push(`line ${i.line}: apt-get install without --no-install-recommends`)
    if (i.keyword === 'RUN' && /\bsudo\b/.test(i.args)) problems.push(`line ${i.line}: sudo in a RUN`)
    if (i.keyword === 'RUN' && /\bnpm install\b/.test(i.args)) problems.push(`line ${i.line}: npm install; use npm ci for a reproducible install from package-lock.json`)
    if (i.keyword === 'COPY' || i.keyword === 'ADD') {
      const from = /--from=(\S+)/.exec(i.args)
      const words = i.args.split(/\s+/).filter(w => !w.startsWith('--'))
      if (from !== null) {
        const idx = stages.findIndex(s => s.body.includes(i))
        if (!stages.slice(0, idx).some(s => s.name === from[1])) problems.push(`line ${i.line}: COPY --from=${from[1]} names no earlier stage`)
      } else {
        for (const src of words.slice(0, -1)) {
          if (!existsSync(join(root, src))) problems.push(`line ${i.line}: COPY source ${src} does not exist in the build context`)
          if (ignored.some(p => src === p || src.startsWith(p + '/'))) problems.push(`line ${i.line}: COPY source ${src} is excluded by the .dockerignore`)
        }
      }
    }
  }
  const build = stages[0]?.body ?? []
  if (!build.some(i => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args))) problems.push('the build stage does not run npm ci')
  if (!build.some(i => i.keyword === 'RUN' && /\bnpm run build\b/.test(i.args))) problems.push('the build stage does not run npm run build')
  const runtime = stages[stages.length - 1]?.body ?? []
  const ci = runtime.find(i => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args))
  if (ci === undefined) problems.push('the runtime stage does not install its dependencies with npm ci')
  else {
    if (!/--omit=dev/.test(ci.args)) problems.push(`line ${ci.line}: the runtime npm ci lacks --omit=dev (production dependencies only)`)
    if (!/--ignore-scripts/.test(ci.args)) problems.push(`line ${ci.line}: the runtime npm ci lacks --ignore-scripts (prepare would build, and dev-only install scripts would run)`)
  }
  const users = runtime.filter(i => i.keyword === 'USER')
  const lastUser = users[users.length - 1]?.args.split(':')[0]
  if (lastUser === undefined || lastUser === 'root' || lastUser === '0') problems.push('the runtime stage runs as root; add USER with an unprivileged user')
  const health = runtime.find(i => i.keyword === 'HEALTHCHECK')
  if (health === undefined || /^NONE\b/i.test(health.args) || !/\bCMD\b/.test(health.args)) problems.push('the runtime stage has no HEALTHCHECK ... CMD')
  const entry = runtime.filter(i => i.keyword === 'ENTRYPOINT').pop()
  if (entry === undefined) problems.push('the runtime stage has no ENTRYPOINT')
  else {
    let argv: unknown
    try { argv = JSON.parse(entry.args) } catch { argv = undefined }
    if (!Array.isArray(argv) || argv.length === 0) problems.push(`line ${entry.line}: ENTRYPOINT is not in exec (JSON array) form, so signals would not reach it`)
    else if (!String(argv[0]).endsWith('docker/entrypoint.sh')) problems.push(`line ${entry.line}: ENTRYPOINT is not docker/entrypoint.sh`)
    else if (!runtime.some(i => i.keyword === 'COPY' && i.args.includes('docker/entrypoint.sh'))) problems.push('docker/entrypoint.sh is never copied into the runtime stage')
  }
  return problems
}

/** The patterns of a .dockerignore, comments and blank lines dropped. */
export function parseDockerignore (text: string): string[] {
  return text.split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#')).map(l => l.replace(/^\/+|\/+$/g, ''))
}
