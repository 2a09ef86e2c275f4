// Headless Chromium for the browser tests: Debian's `chromium`, installed by the project's own files
// when missing (as root), driven over the DevTools protocol with Node's own WebSocket.
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { ensureTool } from '../testnet/helpers.js'

/** Flags every browser test runs Chromium with: headless, no network of its own, a throwaway profile. */
export function chromiumFlags (profileDir: string): string[] {
  return [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profileDir}`
  ]
}

/** Why Chromium cannot run here (after trying to install it), or undefined when it can. */
export function ensureChromium (): string | undefined {
  return ensureTool('chromium', ['--version'], 'chromium')
}

const LAUNCH_TIMEOUT_MS = 30_000
const CALL_TIMEOUT_MS = 30_000

/** A Chromium process with its DevTools endpoint. */
export class Chromium {
  readonly #child: ChildProcess
  readonly #endpoint: string

  private constructor (child: ChildProcess, endpoint: string) {
    this.#child = child
    this.#endpoint = endpoint
  }

  /** Starts Chromium with remote debugging on a free loopback port. */
  static async launch (profileDir: string): Promise<Chromium> {
    const child = spawn('chromium', [...chromiumFlags(profileDir), '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0', '--window-size=1280,900', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    const endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`chromium did not open DevTools within ${LAUNCH_TIMEOUT_MS} ms: ${stderr.slice(-2000)}`)) }, LAUNCH_TIMEOUT_MS)
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        stderr += d
        const m = /DevTools listening on ws:\/\/([^/]+)\//.exec(stderr)
        if (m !== null) { clearTimeout(timer); resolve(`http://${m[1]}`) }
      })
      child.once('exit', code => { clearTimeout(timer); reject(new Error(`chromium exited ${code}: ${stderr.slice(-2000)}`)) })
    })
    return new Chromium(child, endpoint)
  }

  /** A new page (tab); `isolated` gives it its own cookie jar (a browser that never signed in). */
  async newPage (isolated = false): Promise<CdpPage> {
    const version = await (await fetch(`${this.#endpoint}/json/version`)).json() as { webSocketDebuggerUrl: string }
    const browser = await CdpConnection.open(version.webSocketDebuggerUrl)
    const context = isolated ? (await browser.call('Target.createBrowserContext', {}) as { browserContextId: string }).browserContextId : undefined
    const { targetId } = await browser.call('Target.createTarget', { url: 'about:blank', ...(context === undefined ? {} : { browserContextId: context }) }) as { targetId: string }
    browser.close()
    const list = await (await fetch(`${this.#endpoint}/json/list`)).json() as Array<{ id: string, webSocketDebuggerUrl: string }>
    const target = list.find(t => t.id === targetId)
    if (target === undefined) throw new Error(`no DevTools target ${targetId}`)
    const page = new CdpPage(await CdpConnection.open(target.webSocketDebuggerUrl))
    await page.connection.call('Page.enable', {})
    await page.connection.call('Runtime.enable', {})
    await page.connection.call('Network.enable', {})
    return page
  }

  async close (): Promise<void> {
    if (this.#child.exitCode !== null) return
    const gone = new Promise(resolve => this.#child.once('exit', resolve))
    this.#child.kill('SIGKILL')
    await gone
  }
}

/** One DevTools WebSocket: calls by id, events to listeners. */
class CdpConnection {
  readonly #ws: WebSocket
  #next = 1
  readonly #calls = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  readonly listeners = new Set<(method: string, params: Record<string, unknown>) => void>()

  private constructor (ws: WebSocket) {
    this.#ws = ws
    ws.addEventListener('message', (evt) => {
      const msg = JSON.parse(String(evt.data)) as { id?: number, result?: unknown, error?: { message: string }, method?: string, params?: Record<string, unknown> }
      if (msg.id !== undefined) {
        const call = this.#calls.get(msg.id)
        this.#calls.delete(msg.id)
        if (msg.error !== undefined) call?.reject(new Error(msg.error.message))
        else call?.resolve(msg.result)
      } else if (msg.method !== undefined) {
        for (const l of this.listeners) l(msg.method, msg.params ?? {})
      }
    })
  }

  static async open (url: string): Promise<CdpConnection> {
    const ws = new WebSocket(url)
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => { resolve() }, { once: true })
      ws.addEventListener('error', () => { reject(new Error(`cannot open DevTools socket ${url}`)) }, { once: true })
    })
    return new CdpConnection(ws)
  }

  async call (method: string, params: Record<string, unknown>): Promise<unknown> {
    const id = this.#next++
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.#calls.delete(id); reject(new Error(`${method} got no answer within ${CALL_TIMEOUT_MS} ms`)) }, CALL_TIMEOUT_MS)
      this.#calls.set(id, { resolve: v => { clearTimeout(timer); resolve(v) }, reject: e => { clearTimeout(timer); reject(e) } })
      this.#ws.send(JSON.stringify({ id, method, params }))
    })
  }

  close (): void {
    this.#ws.close()
  }
}

/** A page: navigate, evaluate, screenshot, and the HTTP statuses the browser saw. */
export class CdpPage {
  readonly connection: CdpConnection
  /** Every response the page's network stack received: URL and status (CORS-blocked ones too). */
  readonly responses: Array<{ url: string, status: number, loaderId: string }> = []

  constructor (connection: CdpConnection) {
    this.connection = connection
    connection.listeners.add((method, params) => {
      if (method === 'Network.responseReceived') {
        const response = params.response as { url: string, status: number }
        this.responses.push({ url: response.url, status: response.status, loaderId: String(params.loaderId) })
      }
    })
  }

  /** Opens `url` and waits for its load event; returns the navigation's loader id (see `responses`). */
  async navigate (url: string): Promise<string> {
    const loaded = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${url} did not load within ${CALL_TIMEOUT_MS} ms`)) }, CALL_TIMEOUT_MS)
      const listener = (method: string): void => {
        if (method !== 'Page.loadEventFired') return
        clearTimeout(timer)
        this.connection.listeners.delete(listener)
        resolve()
      }
      this.connection.listeners.add(listener)
    })
    const { loaderId } = await this.connection.call('Page.navigate', { url }) as { loaderId: string }
    await loaded
    return loaderId
  }

  /** The value of a JavaScript expression in the page (awaited when it is a promise). */
  async evaluate<T> (expression: string): Promise<T> {
    const answer = await this.connection.call('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }) as { result: { value: T }, exceptionDetails?: { text: string } }
    if (answer.exceptionDetails !== undefined) throw new Error(`page threw: ${answer.exceptionDetails.text}`)
    return answer.result.value
  }

  /** Saves a PNG of the page. */
  async screenshot (file: string): Promise<void> {
    const { data } = await this.connection.call('Page.captureScreenshot', { format: 'png' }) as { data: string }
    await writeFile(file, Buffer.from(data, 'base64'))
  }

  close (): void {
    this.connection.close()
  }
}
