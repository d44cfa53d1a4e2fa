/**
 * The direct route: runs a modern command (`postfleet list`, `status --json`, `config get …`)
 * and `--version` without loading oclif's runner. Bundled as dist/bundle/direct/run.cjs, next to
 * a second build of every command (dist/bundle/direct/commands/) whose @oclif/core leaves out
 * Config, help and the error handler (scripts/oclif-light.mjs): the commands, their flags,
 * oclif's parser and oclif's Command class are the very same code as on the oclif route; what
 * oclif's runner does around them (find the command in oclif.manifest.json, print the version,
 * report an error at the edge) is done here the way oclif does it.
 *
 * Whatever this route does not do exactly as oclif would goes to oclif instead, before anything
 * has been printed or changed: --help and topics, unknown or aliased commands, an argument
 * vector that does not parse (oclif prints its error), a missing or stale manifest, JSON output
 * when a colour theme exists, oclif's debug settings, hooks or plugins in package.json.
 * POSTFLEET_DIRECT=0 always takes the oclif route. See docs/performance.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, homedir, release, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { normalizeArgv } from '@oclif/core/help';
import type { CommandClass, runCommand } from './direct-command.js';
import { flush } from './flush.js';

export interface ManifestCommand {
  readonly id: string;
  readonly strict?: boolean;
  readonly args?: Record<string, unknown>;
  readonly aliases?: readonly string[];
  readonly hiddenAliases?: readonly string[];
  readonly relativePath?: readonly string[];
  readonly isESM?: boolean;
  /** Set here for an alias: such a command goes to oclif. */
  readonly aliasOf?: string;
}

export interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly oclif: Record<string, unknown> & {
    readonly bin?: string;
    readonly binAliases?: string[];
    readonly topicSeparator?: string;
    readonly additionalVersionFlags?: string[];
    readonly additionalHelpFlags?: string[];
    readonly theme?: unknown;
  };
}

/** package.json's oclif settings that change what oclif does around a command; the direct route then steps aside. */
const OCLIF_SETTINGS_NOT_DONE_HERE = ['hooks', 'plugins', 'devPlugins', 'jitPlugins', 'flexibleTaxonomy', 'exitCodes', 'helpClass', 'state'];

/**
 * Runs `args` (argv without node and the script) on the direct route, or hands them to
 * `oclif()` (the oclif route) when that route cannot promise oclif's own behaviour.
 * `root` is the package root (the directory holding package.json and dist/).
 */
export async function runDirect(root: string, args: readonly string[], oclif: () => Promise<unknown>): Promise<unknown> {
  const pjson = directPackage(root, process.env);
  if (pjson === undefined) return oclif();
  const argv = [...args];

  // ux.stdout() is console.log(format(text)), and format() of one string is that string.
  if (versionAddition(argv, pjson)) {
    console.log(userAgent(pjson));
    try {
      await flush(() => new Error('timed out'));
    } catch {
      // oclif's error('timed out') at execute.ts's edge: its line, exit status 2.
      process.stderr.write('postfleet: timed out\n');
      process.exit(2);
    }
    return undefined;
  }
  if (helpAddition(argv, pjson)) return oclif();
  const config = directConfig(root, pjson);
  if (config === undefined) return oclif();
  const [id, ...rest] = normalizeArgv(config as never, [...argv]);
  const found = id === undefined ? undefined : config.findCommand(id);
  if (found === undefined || found.aliasOf !== undefined) return oclif();
  const twin = await loadTwin(root, found);
  if (twin === undefined) return oclif();
  return twin.runCommand(twin.command, config, found.id, rest, oclif);
}

/**
 * The command's direct twin (dist/bundle/commands/X.js -> dist/bundle/direct/commands/X.cjs, or
 * X.js for a twin with lazy chunks): its class and the runner bundled with it. Undefined if the
 * build left the command to oclif.
 */
async function loadTwin(root: string, command: ManifestCommand): Promise<{ command: CommandClass; runCommand: typeof runCommand } | undefined> {
  const rel = command.relativePath;
  if (command.isESM !== true || rel === undefined || rel.slice(0, 3).join('/') !== 'dist/bundle/commands') return undefined;
  const file = path.join(root, 'dist', 'bundle', 'direct', 'commands', ...rel.slice(3));
  const cjs = file.replace(/\.js$/, '.cjs');
  let module: Record<string, unknown> & { default?: unknown; runCommand?: typeof runCommand };
  if (existsSync(cjs)) module = createRequire(import.meta.url)(cjs) as typeof module;
  else if (existsSync(file)) module = (await import(pathToFileURL(file).href)) as typeof module;
  else return undefined;
  // oclif's searchForCommandClass()
  const isCommand = (c: unknown): c is CommandClass => typeof c === 'function' && typeof (c as { run?: unknown }).run === 'function';
  const found = isCommand(module) ? module : isCommand(module.default) ? module.default : Object.values(module).find(isCommand);
  return found === undefined || module.runCommand === undefined ? undefined : { command: found, runCommand: module.runCommand };
}

/** package.json, unless the environment or package.json asks for something only oclif does. */
function directPackage(root: string, env: NodeJS.ProcessEnv): PackageJson | undefined {
  if (env['POSTFLEET_DIRECT'] === '0') return undefined;
  // oclif's and the debug package's diagnostics (DEBUG, POSTFLEET_DEBUG, CLI_FLAGS_DEBUG,
  // OCLIF_*), and oclif's development mode.
  if (env['DEBUG'] || env['CLI_FLAGS_DEBUG'] || env['NODE_ENV'] === 'development') return undefined;
  if (Object.keys(env).some((k) => k.startsWith('OCLIF_'))) return undefined;
  let pjson: PackageJson;
  try {
    pjson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
  if (typeof pjson.oclif !== 'object' || pjson.oclif === null) return undefined;
  if (OCLIF_SETTINGS_NOT_DONE_HERE.some((k) => pjson.oclif[k] !== undefined)) return undefined;
  // oclif's getPlatform() tells WSL apart (is-wsl, which also looks for a container): on a
  // machine with any sign of WSL, oclif decides.
  if (wslSigns()) return undefined;
  const debug = scopedEnvVarKeys(pjson, 'DEBUG').map((k) => env[k]).find(Boolean);
  if (debug === 'true' || debug === '1') return undefined;
  return pjson;
}

/** The commands from oclif.manifest.json, unless oclif would not use that manifest. */
function directConfig(root: string, pjson: PackageJson): DirectConfig | undefined {
  let manifest: { version?: string; commands?: Record<string, ManifestCommand> };
  try {
    manifest = JSON.parse(readFileSync(path.join(root, 'oclif.manifest.json'), 'utf8')) as typeof manifest;
  } catch {
    return undefined;
  }
  // oclif ignores a manifest of another version and looks for the commands itself.
  if (manifest.commands === undefined || manifest.version?.split('-')[0] !== pjson.version?.split('-')[0]) return undefined;
  return strictConfig(new DirectConfig(root, pjson, manifest.commands));
}

/** Config.bin: what scoped environment variables are named after (POSTFLEET_...). */
function binOf(pjson: PackageJson): string {
  return pjson.oclif.bin || pjson.name;
}

/** Config.scopedEnvVarKeys(). */
function scopedEnvVarKeys(pjson: PackageJson, k: string): string[] {
  return [binOf(pjson), ...(pjson.oclif.binAliases ?? [])]
    .filter(Boolean)
    .map((alias) => [alias.replaceAll('@', '').replaceAll(/[/-]/g, '_'), k].join('_').toUpperCase());
}

/** Config.userAgent (the platform: not WSL, see directPackage()). */
function userAgent(pjson: PackageJson): string {
  const cpu = arch() === 'ia32' ? 'x86' : arch();
  return `${pjson.name}/${pjson.version || '0.0.0'} ${process.platform}-${cpu} node-${process.version}`;
}

/** Reading a property the DirectConfig lacks throws, naming it. */
function strictConfig(config: DirectConfig): DirectConfig {
  return new Proxy(config, {
    get(target, key, receiver) {
      // (then, toJSON: probed by await and JSON.stringify, absent on oclif's Config too)
      if (typeof key === 'string' && !(key in target) && key !== 'then' && key !== 'toJSON') throw new Error(`the direct route (src/cli/direct.ts) has no Config.${key}: add it there`);
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
}

/**
 * What of oclif's Config the commands, oclif's Command class and its parser read. Anything else
 * is not there: reading it throws, so that a command that needs more of oclif fails loudly in
 * tests instead of quietly differing.
 */
export class DirectConfig {
  readonly name: string;
  readonly version: string;
  readonly bin: string;
  readonly binAliases: string[] | undefined;
  readonly dirname: string;
  readonly topicSeparator: string;
  readonly arch = arch() === 'ia32' ? 'x86' : arch();
  readonly platform = process.platform;
  readonly flexibleTaxonomy = false;
  readonly isSingleCommandCLI = false;
  readonly theme = undefined;
  readonly commandIDs: string[];
  readonly userAgent: string;
  private readonly commands = new Map<string, ManifestCommand>();

  constructor(
    readonly root: string,
    readonly pjson: PackageJson,
    commands: Record<string, ManifestCommand>,
  ) {
    this.name = pjson.name;
    this.version = pjson.version || '0.0.0';
    this.bin = binOf(pjson);
    this.binAliases = pjson.oclif.binAliases;
    this.dirname = (pjson.oclif['dirname'] as string | undefined) || this.name;
    this.topicSeparator = pjson.oclif.topicSeparator ?? ':';
    for (const command of Object.values(commands)) {
      this.commands.set(command.id, command);
      for (const alias of [...(command.aliases ?? []), ...(command.hiddenAliases ?? [])]) {
        this.commands.set(alias.replaceAll(this.topicSeparator, ':'), { id: alias, aliasOf: command.id });
      }
    }
    this.commandIDs = [...this.commands.keys()];
    this.userAgent = userAgent(pjson);
  }

  findCommand(id: string): ManifestCommand | undefined {
    return this.commands.get(id);
  }

  async runHook(): Promise<{ successes: []; failures: [] }> {
    return { successes: [], failures: [] };
  }

  scopedEnvVarKey(k: string): string {
    return [this.bin, k]
      .map((p) => p.replaceAll('@', '').replaceAll(/[/-]/g, '_'))
      .join('_')
      .toUpperCase();
  }

  scopedEnvVarKeys(k: string): string[] {
    return scopedEnvVarKeys(this.pjson, k);
  }

  scopedEnvVar(k: string): string | undefined {
    const key = this.scopedEnvVarKeys(k).find((name) => process.env[name]);
    return key === undefined ? undefined : process.env[key];
  }

  scopedEnvVarTrue(k: string): boolean {
    const v = this.scopedEnvVar(k);
    return v === 'true' || v === '1';
  }

  /**
   * Whether oclif might colour a JSON answer: only with a theme (package.json's, or the user's
   * theme.json in oclif's config directory), which this route does not load.
   */
  jsonMayBeColoured(env: NodeJS.ProcessEnv): boolean {
    if (this.pjson.oclif.theme !== undefined) return true;
    if (this.scopedEnvVarTrue('DISABLE_THEME')) return false;
    const home = env['HOME'] || homedir() || tmpdir();
    const configDir = this.scopedEnvVar('CONFIG_DIR') || path.join(env['XDG_CONFIG_HOME'] || path.join(home, '.config'), this.dirname);
    return existsSync(path.resolve(configDir, 'theme.json'));
  }
}

/** oclif's main.js versionAddition(). */
function versionAddition(argv: readonly string[], pjson: PackageJson): boolean {
  const flags = new Set(['--version', ...(pjson.oclif.additionalVersionFlags ?? [])]);
  return argv[0] !== undefined && flags.has(argv[0]);
}

/** The signs is-wsl looks for before it looks for a container. */
function wslSigns(): boolean {
  if (process.platform !== 'linux') return false;
  if (release().toLowerCase().includes('microsoft')) return true;
  try {
    if (readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft')) return true;
  } catch {
    // as is-wsl
  }
  return existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || existsSync('/run/WSL');
}

/** oclif's main.js helpAddition(), with help/util.js's getHelpFlagAdditions(). */
function helpAddition(argv: readonly string[], pjson: PackageJson): boolean {
  if (argv.length === 0) return true;
  const helpFlags = ['--help', ...(pjson.oclif.additionalHelpFlags ?? [])];
  for (const arg of argv) {
    if (helpFlags.includes(arg)) return true;
    if (arg === '--') return false;
  }
  return false;
}
