/**
 * The dashboard's script (GET /dashboard/app.js): reads GET /v1/dashboard/state and re-reads it when
 * GET /v1/events says something happened. Both requests carry the session cookie (same origin);
 * the script never sees a token. Every name shown comes from a manifest or a peer, so text is set
 * with textContent only, never parsed as HTML.
 */
export const DASHBOARD_SCRIPT = String.raw`
const REFRESH_MIN_MS = 300
const FALLBACK_POLL_MS = 5000
const MAX_CELLS = 2048
const previous = new Map()
let lastState = 0
let pending

function el (tag, attrs, text) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v))
  if (text !== undefined) node.textContent = String(text)
  return node
}

function bytes (n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
  return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i]
}

function pct (part, whole) {
  return whole > 0 ? Math.round(100 * part / whole) + '%' : '-'
}

function eta (c) {
  if (c.have >= c.chunks || c.downloadRateBps <= 0) return '-'
  const left = Math.max(0, c.size - Math.min(c.size, c.have * c.chunkSize)) / c.downloadRateBps
  return left < 90 ? Math.ceil(left) + ' s' : Math.ceil(left / 60) + ' min'
}

function row (cells) {
  const tr = el('tr')
  for (const cell of cells) {
    const td = el('td', cell.cls === undefined ? {} : { class: cell.cls }, cell.text)
    if (cell.title !== undefined) td.title = cell.title
    tr.append(td)
  }
  return tr
}

function chunkMap (c) {
  const box = el('div', { class: 'chunkmap', 'data-cid': c.cid })
  const map = c.chunkMap
  const step = Math.max(1, Math.ceil(map.length / MAX_CELLS))
  let held = 0; let inflight = 0; let missing = 0
  for (const s of map) { if (s === 'h') held++; else if (s === 'f') inflight++; else missing++ }
  box.dataset.held = held; box.dataset.inflight = inflight; box.dataset.missing = missing
  for (let i = 0; i < map.length; i += step) {
    // a cell covering several chunks shows the least complete of them
    let state = 'h'
    let peers = Infinity
    for (let j = i; j < Math.min(map.length, i + step); j++) {
      if (map[j] === 'm' || (map[j] === 'f' && state === 'h')) state = map[j]
      peers = Math.min(peers, c.availability.length > 0 ? c.availability[j] : 0)
    }
    const cls = state === 'h' ? 'held' : state === 'f' ? 'inflight' : 'missing'
    const cell = el('div', { class: 'chunk ' + cls, 'data-peers': peers })
    cell.title = (step === 1 ? 'chunk ' + i : 'chunks ' + i + '-' + (Math.min(map.length, i + step) - 1)) + ': ' + cls + ', held by ' + peers + ' peer(s)'
    box.append(cell)
  }
  return box
}

function render (state, elapsedS) {
  const s = state.status
  document.getElementById('node').textContent = 'peer ' + s.peerId + ' | ' + s.peers + ' peers | up ' + bytes(s.uploadRateBps) + '/s, down ' +
    bytes(s.downloadRateBps) + '/s | received ' + bytes(s.received.origin + s.received.peer + s.received.upstream) +
    (s.peerShare === undefined ? '' : ' (' + Math.round(100 * s.peerShare) + '% from peers)')
  const body = document.querySelector('#contents tbody')
  const maps = document.getElementById('maps')
  const peers = document.querySelector('#peers tbody')
  const contentRows = []; const mapBoxes = []; const peerRows = []
  for (const c of state.contents) {
    const r = c.received
    const total = r.origin + r.peer + r.upstream
    const tr = row([
      { text: c.name, title: c.cid },
      { text: c.state },
      { text: c.have + '/' + c.chunks + ' (' + pct(c.have, c.chunks) + ')', cls: 'num' },
      { text: bytes(c.downloadRateBps) + '/s', cls: 'num' },
      { text: eta(c), cls: 'num' },
      { text: pct(r.peer, total), cls: 'num', title: bytes(r.peer) },
      { text: pct(r.origin, total), cls: 'num', title: bytes(r.origin) },
      { text: pct(r.upstream, total), cls: 'num', title: bytes(r.upstream) },
      { text: c.peers, cls: 'num' }
    ])
    tr.dataset.cid = c.cid
    tr.dataset.state = c.state
    contentRows.push(tr)
    const section = el('div', { class: 'content' })
    section.append(el('strong', {}, c.name), el('span', { class: 'mono' }, ' ' + c.cid))
    section.append(chunkMap(c))
    const legend = el('div', { class: 'legend' })
    const m = section.querySelector('.chunkmap').dataset
    legend.append(el('span', {}, 'held ' + m.held), el('span', {}, 'in flight ' + m.inflight), el('span', {}, 'missing ' + m.missing))
    section.append(legend)
    mapBoxes.push(section)
    for (const p of c.peerBytes) {
      const key = c.cid + ' ' + p.peer
      const before = previous.get(key)
      const rateIn = before === undefined || elapsedS <= 0 ? 0 : (p.received - before.received) / elapsedS
      const rateOut = before === undefined || elapsedS <= 0 ? 0 : (p.sent - before.sent) / elapsedS
      previous.set(key, p)
      const notes = (p.origin ? 'origin ' : '') + (p.banned ? 'banned' : '')
      const pr = row([
        { text: p.peer.slice(-12), cls: 'mono', title: p.peer },
        { text: c.name, title: c.cid },
        { text: bytes(p.received), cls: 'num' },
        { text: bytes(Math.max(0, rateIn)) + '/s', cls: 'num' },
        { text: bytes(p.sent), cls: 'num' },
        { text: bytes(Math.max(0, rateOut)) + '/s', cls: 'num' },
        { text: notes, cls: p.banned ? 'banned' : undefined }
      ])
      pr.dataset.peer = p.peer
      peerRows.push(pr)
    }
  }
  body.replaceChildren(...contentRows)
  maps.replaceChildren(...mapBoxes)
  peers.replaceChildren(...peerRows)
}

async function refresh () {
  pending = undefined
  const started = Date.now()
  const res = await fetch('/v1/dashboard/state', { credentials: 'same-origin', cache: 'no-store' })
  if (!res.ok) {
    document.getElementById('live').textContent = 'signed out (' + res.status + '): run shoal dashboard'
    return
  }
  const state = await res.json()
  const elapsed = lastState === 0 ? 0 : (started - lastState) / 1000
  lastState = started
  render(state, elapsed)
  document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1)
}

function schedule () {
  if (pending === undefined) pending = setTimeout(() => { refresh().catch(() => {}) }, REFRESH_MIN_MS)
}

const live = document.getElementById('live')
const events = new EventSource('/v1/events')
events.onopen = () => { live.textContent = 'live'; live.className = 'on' }
events.onerror = () => { live.textContent = 'reconnecting'; live.className = '' }
for (const name of ['progress', 'peer', 'stalled', 'banned', 'done', 'error']) events.addEventListener(name, schedule)
setInterval(schedule, FALLBACK_POLL_MS)
refresh().catch(() => {})
`
