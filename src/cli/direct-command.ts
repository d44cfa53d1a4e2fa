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
  // Parsed once here, where a mistake can still go to oclif (which prints its own message);
  // run()'s `this.parse(Ctor)` is given this same result.
  let parsed: unknown;
  try {
    parsed = await command.parse();
  } catch {
    return oclif();
  }
  const parse = command.parse.bind(command);
  Object.defineProperty(command, 'parse', {
    value: (options?: unknown, more?: string[]) => ((options === undefined || options === CommandClass) && more === undefined ? Promise.resolve(parsed) : parse(options, more)),
  });

  try {
    const result = await command._run();
    await flush(timedOut);
    return result;
  } catch (caught) {
    return atEdge(caught);
  }
}

/** As execute.ts and oclif's handle(): one line unless the command said it already, then exit. */
export function atEdge(caught: unknown): never {
  const err = caught as OclifError;
  if (err.code !== 'EEXIT' && !err.skipOclifErrorHandling) process.stderr.write(`postfleet: ${edgeMessage(err)}\n`);
  process.exit(err.message === 'SIGINT' ? 1 : (err.oclif?.exit ?? 1));
}

/** Deprecation warnings are printed by Command.init() and parse(): left to oclif, which prints each once. */
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
