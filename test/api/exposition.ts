// A strict reader of the Prometheus text exposition format (0.0.4), for tests where promtool is not
// installed; it checks what promtool's `check metrics` would fail on and returns the samples.
import assert from 'node:assert/strict'

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"$/

/** Parses `text`, asserting the format's rules; returns every sample. */
export function parseExposition (text: string): Sample[] {
  const types = new Map<string, string>()
  const helps = new Set<string>()
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('# HELP ')) {
      const name = line.slice(7).split(' ')[0]!
      assert.match(name, NAME)
      assert.ok(!helps.has(name), `HELP of ${name} twice`)
      helps.add(name)
      continue
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ')
      assert.match(name!, NAME)
      assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type!), `TYPE ${type}`)
      assert.ok(!types.has(name!), `TYPE of ${name} twice`)
      types.set(name!, type!)
      continue
    }
    if (line.startsWith('#')) continue
    const m = SAMPLE.exec(line)
    assert.ok(m !== null, `not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    if (m[3] !== undefined && m[3] !== '') {
      for (const pair of splitLabels(m[3])) {
        const l = LABEL.exec(pair)
        assert.ok(l !== null, `bad label ${pair} in ${line}`)
        labels[l[1]!] = l[2]!
      }
    }
    const value = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4])
    assert.ok(!Number.isNaN(value) || m[4] === 'NaN', `bad value in ${line}`)
    const family = familyOf(m[1]!, types)
    assert.ok(family !== undefined, `sample ${m[1]} has no TYPE`)
    samples.push({ name: m[1]!, labels, value })
  }
  for (const [name, type] of types) {
    if (type === 'counter') assert.match(name, /_total$/, `counter ${name} should end in _total`)
    if (type === 'histogram') checkHistogram(name, samples)
  }
  return samples
}

function splitLabels (text: string): string[] {
  const out: string[] = []
  let current = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '\\' && quoted) { current += c + text[++i]!; continue }
    if (c === '"') quoted = !quoted
    if (c === ',' && !quoted) { out.push(current); current = ''; continue }
    current += c
  }
  if (current !== '') out.push(current)
  return out
}

function familyOf (sample: string, types: Map<string, string>): string | undefined {
  if (types.has(sample)) return sample
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (sample.endsWith(suffix) && types.get(sample.slice(0, -suffix.length)) === 'histogram') return sample.slice(0, -suffix.length)
  }
  return undefined
}

function checkHistogram (name: string, samples: Sample[]): void {
  const series = new Map<string, Sample[]>()
  for (const s of samples.filter(s => s.name === `${name}_bucket`)) {
    const { le, ...rest } = s.labels
    assert.ok(le !== undefined, `${name}_bucket without le`)
    const key = JSON.stringify(rest)
    series.set(key, [...(series.get(key) ?? []), s])
  }
  for (const [key, buckets] of series) {
    let last = -1
    for (const b of buckets) {
      assert.ok(b.value >= last, `${name}${key} buckets are not cumulative`)
      last = b.value
    }
    assert.equal(buckets.at(-1)!.labels.le, '+Inf', `${name}${key} has no +Inf bucket`)
    const count = samples.find(s => s.name === `${name}_count` && JSON.stringify(s.labels) === key)
    assert.equal(count?.value, last, `${name}${key}: _count differs from the +Inf bucket`)
  }
}

/** The value of one series (0 when absent). */
export function valueOf (samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.find(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  return found?.value ?? 0
}
