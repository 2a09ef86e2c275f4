export interface Series {
  label: string
  /** Points [x, y] in data units, x ascending. */
  points: Array<[number, number]>
  color: string
  /** Drawn as steps (a CDF) rather than straight segments. */
  step?: boolean
}

export interface PlotInit {
  title: string
  xLabel: string
  yLabel: string
  series: Series[]
  width?: number
  height?: number
}

function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** A round step for about `n` axis ticks over [0, max]. */
function tickStep (max: number, n: number): number {
  const raw = max / n
  const mag = 10 ** Math.floor(Math.log10(raw))
  for (const m of [1, 2, 5, 10]) if (m * mag >= raw) return m * mag
  return 10 * mag
}

/** A line chart as a standalone SVG document (axes from 0, ticks, legend). */
export function svgPlot (init: PlotInit): string {
  const W = init.width ?? 720
  const H = init.height ?? 420
  const m = { l: 64, r: 16, t: 36, b: 48 }
  const all = init.series.flatMap(s => s.points)
  const xMax = Math.max(1e-9, ...all.map(p => p[0]))
  const yMax = Math.max(1e-9, ...all.map(p => p[1]))
  const sx = (x: number): number => m.l + x / xMax * (W - m.l - m.r)
  const sy = (y: number): number => H - m.b - y / yMax * (H - m.t - m.b)
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`)
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`)
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(init.title)}</text>`)
  const xs = tickStep(xMax, 8)
  for (let x = 0; x <= xMax * 1.0001; x += xs) {
    out.push(`<line x1="${sx(x)}" y1="${m.t}" x2="${sx(x)}" y2="${H - m.b}" stroke="#eee"/>`)
    out.push(`<text x="${sx(x)}" y="${H - m.b + 16}" text-anchor="middle">${+x.toPrecision(6)}</text>`)
  }
  const ys = tickStep(yMax, 6)
  for (let y = 0; y <= yMax * 1.0001; y += ys) {
    out.push(`<line x1="${m.l}" y1="${sy(y)}" x2="${W - m.r}" y2="${sy(y)}" stroke="#eee"/>`)
    out.push(`<text x="${m.l - 6}" y="${sy(y) + 4}" text-anchor="end">${+y.toPrecision(6)}</text>`)
  }
  out.push(`<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`)
  out.push(`<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`)
  out.push(`<text x="${(W + m.l) / 2}" y="${H - 10}" text-anchor="middle">${esc(init.xLabel)}</text>`)
  out.push(`<text transform="translate(16 ${(H - m.b + m.t) / 2}) rotate(-90)" text-anchor="middle">${esc(init.yLabel)}</text>`)
  init.series.forEach((s, i) => {
    const d: string[] = []
    let prevY: number | undefined
    for (const [x, y] of s.points) {
      if (d.length === 0) d.push(`M${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      else if (s.step === true && prevY !== undefined) d.push(`L${sx(x).toFixed(1)},${sy(prevY).toFixed(1)}`, `L${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      else d.push(`L${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      prevY = y
    }
    out.push(`<path d="${d.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`)
    out.push(`<rect x="${m.l + 10}" y="${m.t + 6 + i * 16}" width="12" height="3" fill="${s.color}"/>`)
    out.push(`<text x="${m.l + 28}" y="${m.t + 11 + i * 16}">${esc(s.label)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}
