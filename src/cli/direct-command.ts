/**
 * The direct route's second half (see direct.ts): the command found in the manifest, loaded from
 * its direct bundle, parsed and run as oclif's Config.runCommand() and Command.run() would.
 * Loaded only once direct.ts has made sure no oclif-only feature is asked for.
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Command } from '@oclif/core/command';
import { error as oclifError } from '@oclif/core/errors';
import { normalizeArgv } from '@oclif/core/help';
import { edgeMessage } from './base.js';
import { flush, type DirectConfig, type ManifestCommand } from './direct.js';

type OclifError = Error & { code?: string; oclif?: { exit?: number }; skipOclifErrorHandling?: boolean };

/** What a command instance offers the runner (protected in oclif's typings). */
interface Runnable {
  readonly ctor: typeof Command;
  parse(options?: unknown, argv?: string[]): Promise<unknown>;
  jsonEnabled(): boolean;
  _run(): Promise<unknown>;
}

type CommandClass = Pick<typeof Command, 'id' | 'state' | 'deprecateAliases' | 'flags'> & (new (argv: string[], config: DirectConfig) => Runnable);

/**
 * Runs the command that `argv` names, or hands `argv` to `oclif()` before anything is printed
 * or changed.
 */
export async function runCommand(config: DirectConfig, argv: readonly string[], oclif: () => Promise<unknown>): Promise<unknown> {
  const [id, ...rest] = normalizeArgv(config as never, [...argv]);
  const found = id === undefined ? undefined : config.findCommand(id);
  if (found === undefined || found.aliasOf !== undefined) return oclif();
  const CommandClass = await loadDirectCommand(config.root, found);
  if (CommandClass === undefined || usesDeprecation(CommandClass)) return oclif();

  CommandClass.id = found.id;
  const command = new CommandClass(rest, config);
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
    await flush();
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

/** The command's class from its direct bundle: dist/bundle/commands/X.js -> dist/bundle/direct/commands/X.js. */
async function loadDirectCommand(root: string, command: ManifestCommand): Promise<CommandClass | undefined> {
  const rel = command.relativePath;
  if (command.isESM !== true || rel === undefined || rel.slice(0, 3).join('/') !== 'dist/bundle/commands') return undefined;
  const file = path.join(root, 'dist', 'bundle', 'direct', 'commands', ...rel.slice(3));
  if (!existsSync(file)) return undefined;
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown> & { default?: unknown };
  // oclif's searchForCommandClass()
  const isCommand = (c: unknown): c is CommandClass => typeof c === 'function' && typeof (c as { run?: unknown }).run === 'function';
  if (isCommand(module)) return module;
  if (isCommand(module.default)) return module.default;
  return Object.values(module).find(isCommand);
}

/** Deprecation warnings are printed by Command.init() and parse(): left to oclif, which prints each once. */
function usesDeprecation(c: CommandClass): boolean {
  if (c.state === 'deprecated' || c.deprecateAliases) return true;
  return Object.values(c.flags ?? {}).some((f) => Boolean((f as { deprecated?: unknown; deprecateAliases?: unknown }).deprecated || (f as { deprecateAliases?: unknown }).deprecateAliases));
}

/** oclif's error('timed out'), thrown: for flush() in direct.ts, which does not load oclif's errors. */
export function timedOut(): never {
  return oclifError('timed out');
}
