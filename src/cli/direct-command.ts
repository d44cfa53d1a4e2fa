/**
 * The direct route's second half (see direct.ts), bundled into every command's direct twin
 * (dist/bundle/direct/commands/*.js, one file each: scripts/bundle.mjs): the command class of
 * that twin, made, parsed and run as oclif's Config.runCommand() and Command.run() would.
 */
import type { Command } from '@oclif/core/command';
import { error as oclifError } from '@oclif/core/errors';
import { edgeMessage } from './base.js';
import { flush } from './flush.js';
import type { DirectConfig } from './direct.js';

type OclifError = Error & { code?: string; oclif?: { exit?: number }; skipOclifErrorHandling?: boolean };

/** What a command instance offers the runner (protected in oclif's typings). */
interface Runnable {
  readonly ctor: typeof Command;
  parse(options?: unknown, argv?: string[]): Promise<unknown>;
  jsonEnabled(): boolean;
  _run(): Promise<unknown>;
}

export type CommandClass = Pick<typeof Command, 'id' | 'state' | 'deprecateAliases' | 'flags'> & (new (argv: string[], config: DirectConfig) => Runnable);

/**
 * Runs `CommandClass` (command `id`, given `argv`), or hands the whole argument vector to
 * `oclif()` before anything is printed or changed.
 */
export async function runCommand(CommandClass: CommandClass, config: DirectConfig, id: string, argv: readonly string[], oclif: () => Promise<unknown>): Promise<unknown> {
  if (usesDeprecation(CommandClass)) return oclif();
  CommandClass.id = id;
  const command = new CommandClass([...argv], config);
  if (command.jsonEnabled() && config.jsonMayBeColoured(process.env)) return oclif();
  // A parse error goes to oclif, which prints its own message. The command parses first thing,
  // with whichever class or options it chooses (`this.parse(Ctor)`), so the runner cannot parse
  // in its place: the command's first parse() is watched instead, and if it fails before
  // anything was printed, that run stops there, never resumed, and oclif takes over.
  const watch = watchFirstParse(command);
  let outcome: { result: unknown } | 'oclif';
  try {
    outcome = await Promise.race([command._run().then((result) => ({ result })), watch.handedOff]);
    watch.unwatch();
    if (outcome === 'oclif') return oclif();
    await flush(timedOut);
  } catch (caught) {
    return atEdge(caught);
  }
  return outcome.result;
}

/**
 * `handedOff` resolves with 'oclif' if the command's first parse() fails before it has printed
 * anything; that parse() then never settles. Until then writes to stdout and stderr are noted.
 */
function watchFirstParse(command: Runnable): { handedOff: Promise<'oclif'>; unwatch: () => void } {
  let handOff!: (to: 'oclif') => void;
  const handedOff = new Promise<'oclif'>((resolve) => (handOff = resolve));
  let wrote = false;
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  streams.forEach((stream, k) => {
    stream.write = function (this: NodeJS.WriteStream, ...args: unknown[]) {
      wrote = true;
      return writes[k]!.apply(this, args as Parameters<typeof stream.write>);
    };
  });
  const unwatch = (): void => streams.forEach((stream, k) => (stream.write = writes[k] as typeof stream.write));
  const parse = command.parse.bind(command);
  let first = true;
  Object.defineProperty(command, 'parse', {
    value: async (options?: unknown, argv?: string[]): Promise<unknown> => {
      if (!first) return parse(options, argv);
      first = false;
      try {
        return await parse(options, argv);
      } catch (e) {
        if (wrote) throw e;
        handOff('oclif');
        return new Promise(() => {});
      } finally {
        unwatch();
      }
    },
  });
  return { handedOff, unwatch };
}

/** As execute.ts and oclif's handle(): one line unless the command said it already, then exit. */
export function atEdge(caught: unknown): never {
  const err = caught as OclifError;
  if (err.code !== 'EEXIT' && !err.skipOclifErrorHandling) process.stderr.write(`postfleet: ${edgeMessage(err)}\n`);
  process.exit(err.message === 'SIGINT' ? 1 : (err.oclif?.exit ?? 1));
}

/** Deprecation warnings (Command.init(), parse()) are laid out by oclif's ux for the terminal: left to oclif. */
function usesDeprecation(c: CommandClass): boolean {
  if (c.state === 'deprecated' || c.deprecateAliases) return true;
  return Object.values(c.flags ?? {}).some((f) => Boolean((f as { deprecated?: unknown; deprecateAliases?: unknown }).deprecated || (f as { deprecateAliases?: unknown }).deprecateAliases));
}

/** oclif's error('timed out'): a CLIError, exit status 2. */
function timedOut(): Error {
  try {
    return oclifError('timed out');
  } catch (e) {
    return e as Error;
  }
}
