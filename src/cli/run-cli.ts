import { Command, CommanderError, Option } from 'commander'
import { ShoalError } from '../util/shoal-error.js'
import { ExitCode } from './exit-codes.js'
import { Output } from './output.js'
import { RETIRED_SETTINGS, retiredSettingWarnings } from './retired-settings.js'
import { SETTINGS, resolveSettings } from './settings.js'
import type { CommandContext } from './command-context.js'

type Action = (ctx: CommandContext, args: string[], opts: Record<string, unknown>) => Promise<number>

// Commands load libp2p; importing them only when one runs keeps `--help` and `--version` instant.
const seedCommand: Action = async (...a) => await (await import('./commands/seed.js')).seedCommand(...a)
const getCommand: Action = async (...a) => await (await import('./commands/get.js')).getCommand(...a)
const catCommand: Action = async (ctx, args) => await (await import('./commands/cat.js')).catCommand(ctx, args)
const addCommand: Action = async (...a) => await (await import('./commands/daemon-client-commands.js')).addCommand(...a)
const lsCommand: Action = async (ctx) => await (await import('./commands/daemon-client-commands.js')).lsCommand(ctx)
const statusCommand: Action = async (ctx) => await (await import('./commands/daemon-client-commands.js')).statusCommand(ctx)
const cancelCommand: Action = async (ctx, args) => await (await import('./commands/daemon-client-commands.js')).cancelCommand(ctx, args)
const pinCommand: Action = async (ctx, args) => await (await import('./commands/daemon-client-commands.js')).pinCommand(ctx, args, true)
const unpinCommand: Action = async (ctx, args) => await (await import('./commands/daemon-client-commands.js')).pinCommand(ctx, args, false)
const gcCommand: Action = async (ctx, _args, opts) => await (await import('./commands/daemon-client-commands.js')).gcCommand(ctx, opts)
const daemonCommand: Action = async (ctx) => await (await import('./commands/daemon.js')).daemonCommand(ctx)
const bootstrapCommand: Action = async (...a) => await (await import('./commands/bootstrap.js')).bootstrapCommand(...a)
const idCommand: Action = async (ctx) => await (await import('./commands/id.js')).idCommand(ctx)
const swarmKeyCommand: Action = async (ctx, args) => await (await import('./commands/id.js')).swarmKeyCommand(ctx, args)
const dashboardCommand: Action = async (ctx) => await (await import('./commands/daemon-client-commands.js')).dashboardCommand(ctx)
const demoCommand: Action = async (...a) => await (await import('./commands/demo.js')).demoCommand(...a)

/** Parses argv, runs one command and returns the process exit code (see exit-codes.ts). */
export async function runCli (argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.OK
  const program = new Command('shoal')
    .description('Peer-to-peer content distribution: every receiver re-serves the chunks it has verified.')
    .version('0.1.0')
    .showSuggestionAfterError()
    // `shoal get --help` then lists --bootstrap, --data-dir... too, not only get's own options
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .option('--json', 'machine-readable output: one JSON object per line')
    .option('-q, --quiet', 'print only results and errors')
    .option('--debug', 'print stack traces with errors')
  for (const s of SETTINGS) {
    const option = new Option(s.flag, `${s.description} [env ${s.env}, default "${s.defaultText}"]`)
    option.attributeName = () => s.key
    program.addOption(option)
  }
  for (const r of RETIRED_SETTINGS) {
    // still parsed, so a deployment that passes it does not fail as "unknown option"; never listed
    const option = new Option(r.flag).hideHelp()
    option.attributeName = () => r.key
    program.addOption(option)
  }
  program.addHelpText('after', `
Examples:
  $ shoal demo                               # a local swarm on loopback, end to end
  $ shoal seed ./build.tar                   # publish a file and seed it until Ctrl-C
  $ shoal get bafy... -o ./out --bootstrap /ip4/10.0.0.2/tcp/4001/p2p/12D3KooW...
  $ shoal bootstrap --listen /ip4/0.0.0.0/tcp/4001
  $ SHOAL_API=127.0.0.1:7070 shoal daemon    # then: shoal add|get|cat|ls|status|cancel|pin|gc

Flags override SHOAL_* environment variables (see .env.example). Exit codes are listed in the README.`)

  const run = (action: Action) => async (...raw: unknown[]): Promise<void> => {
    const command = raw[raw.length - 1] as Command
    const opts = command.optsWithGlobals()
    const output = new Output({ json: opts.json === true, quiet: opts.quiet === true, debug: opts.debug === true })
    const controller = new AbortController()
    let interrupts = 0
    const onSignal = (signal: NodeJS.Signals): void => {
      interrupts++
      if (interrupts > 1) {
        process.stderr.write('shoal: second interrupt, exiting without a clean shutdown\n')
        process.exit(ExitCode.INTERRUPTED)
      }
      output.info(`\n${signal}: stopping (saving state, announcing leave)...`)
      controller.abort(new ShoalError('ERR_ABORTED', `interrupted by ${signal}`))
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      for (const warning of retiredSettingWarnings(opts)) output.warn(warning)
      const settings = resolveSettings(opts)
      const ctx: CommandContext = { settings, output, signal: controller.signal }
      exitCode = await action(ctx, command.args, opts)
    } catch (err) {
      exitCode = output.error(err)
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }

  program.command('seed').argument('<path>', 'file or folder to publish')
    .description('add a file or folder, print its content ID and how to fetch it, and seed until interrupted')
    .addHelpText('after', '\nExample:\n  $ shoal seed ./model.bin --listen /ip4/0.0.0.0/tcp/4002')
    .action(run(seedCommand))
  program.command('get').argument('<cid>', 'content ID (bafy...)')
    .description('fetch content, verifying every chunk, and keep seeding for --seed-time')
    .option('-o, --out <dir>', 'output folder', '.')
    .option('--overwrite', 'replace existing files at the destination that shoal did not create (never a folder)')
    .addHelpText('after', '\nExample:\n  $ shoal get bafyrei... -o ./downloads --seed-time 10m --bootstrap /ip4/10.0.0.2/tcp/4001/p2p/12D3KooW...')
    .action(run(getCommand))
  program.command('cat').argument('<cid[/path]>', 'content ID, then the path of a file inside a folder content')
    .description('write a file of a content to stdout, every chunk verified (through the daemon when one is configured)')
    .addHelpText('after', '\nExample:\n  $ shoal cat bafyrei.../docs/readme.txt | less')
    .action(run(catCommand))
  program.command('add').argument('<path>', 'file or folder')
    .description('add content to the running daemon (or seed it here when no daemon is configured)')
    .addHelpText('after', '\nExample:\n  $ SHOAL_API=127.0.0.1:7070 shoal add ./dataset/')
    .action(run(addCommand))
  program.command('ls')
    .description('list contents with progress (from the daemon, or this data dir)')
    .addHelpText('after', '\nExample:\n  $ shoal ls --json')
    .action(run(lsCommand))
  program.command('status')
    .description('node status: peer id, addresses, peers, rates')
    .addHelpText('after', '\nExample:\n  $ shoal status --api 127.0.0.1:7070')
    .action(run(statusCommand))
  program.command('cancel').argument('<cid>', 'content ID')
    .description('stop downloading or seeding a content and forget its state (files are kept)')
    .addHelpText('after', '\nExample:\n  $ shoal cancel bafyrei...')
    .action(run(cancelCommand))
  program.command('pin').argument('<cid>', 'content ID')
    .description('keep a content: the cache never evicts it')
    .addHelpText('after', '\nExample:\n  $ shoal pin bafyrei...')
    .action(run(pinCommand))
  program.command('unpin').argument('<cid>', 'content ID')
    .description('let the cache evict a content again (only content in the managed store is ever evicted)')
    .addHelpText('after', '\nExample:\n  $ shoal unpin bafyrei...')
    .action(run(unpinCommand))
  program.command('gc')
    .description('evict from the managed store what the cache limits say must go (see docs/cache.md)')
    .option('--dry-run', 'only list what would go, and how many bytes')
    .addHelpText('after', '\nExample:\n  $ SHOAL_API=127.0.0.1:7070 shoal gc --dry-run')
    .action(run(gcCommand))
  program.command('dashboard')
    .description('print a one-time link that opens the daemon\'s live dashboard in a browser')
    .addHelpText('after', '\nExample:\n  $ shoal dashboard --api 127.0.0.1:7070')
    .action(run(dashboardCommand))
  program.command('daemon')
    .description('run a long-lived node with the HTTP control API (default 127.0.0.1:7070)')
    .addHelpText('after', '\nExample:\n  $ shoal daemon --api 127.0.0.1:7070 --listen /ip4/0.0.0.0/tcp/4002')
    .action(run(daemonCommand))
  program.command('bootstrap')
    .description('run a bootstrap node (persisted key, fixed port, no content) and print its multiaddrs')
    .option('-p, --port <port>', 'TCP port when --listen is not given', '4001')
    .addHelpText('after', '\nExample:\n  $ shoal bootstrap --port 4001 --announce /ip4/203.0.113.7/tcp/4001')
    .action(run(bootstrapCommand))
  program.command('id')
    .description('create (first time) or show this node\'s identity')
    .addHelpText('after', '\nExample:\n  $ shoal id --data-dir /var/lib/shoal')
    .action(run(idCommand))
  program.command('swarm-key').argument('<file>', 'where to write the new key (mode 0600, never overwritten)')
    .description('generate a private swarm key; give the same file to every node with --swarm-key')
    .addHelpText('after', '\nExample:\n  $ shoal swarm-key /etc/shoal/swarm.key')
    .action(run(swarmKeyCommand))
  program.command('demo')
    .description('start a bootstrap node, a seeder and receivers on loopback, distribute a generated file, verify every copy')
    .option('--receivers <n>', 'number of receivers', '4')
    .option('--size <bytes>', 'size of the generated file', '64M')
    .option('--seeder-limit <rate>', 'the seeder\'s upload cap, so receivers must trade (0 = unlimited)', '16M')
    .addHelpText('after', '\nExample:\n  $ shoal demo --receivers 6 --size 128M')
    .action(run(demoCommand))

  try {
    await program.parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are not failures; commander already printed its message
      return err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE
    }
    throw err
  }
  return exitCode
}
