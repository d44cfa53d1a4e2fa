import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { PostfleetCommand } from '../cli/base.js';
import { configDirFlag } from '../cli/flags.js';
import { dryRunFlag, lifecycleContext, placementFlags, renderReport } from '../cli/lifecycle.js';
import { PostfleetError } from '../instances/errors.js';
import * as lifecycle from '../instances/lifecycle/actions.js';
import { checkPrivatePath } from '../instances/lifecycle/names.js';
import { pathsFromFlags, placementFromFlags } from './create.js';

type ImportFlags = { name?: string | undefined; group?: string | undefined; 'config-directory'?: string | undefined; before?: string | undefined; 'before-group'?: string | undefined; first?: boolean };

export default class Import extends PostfleetCommand {
  static override summary = 'Add existing instances (their main.cf and master.cf must exist) to the managed list.';
  static override description =
    "Each argument is a config directory (an absolute path: the instance keeps its name) or an instance name (its config directory derived from the primary's, as create derives it); so is each --config-directory when several instances are given. Several are added in one transaction (all or none), appended to the list in order (the arguments, then the --config-directory values); --group then regroups each, and --name and placement do not apply.";
  static override examples = [
    '<%= config.bin %> import postfix-old',
    '<%= config.bin %> import --config-directory /srv/postfix-legacy --name postfix-legacy --group mta',
    '<%= config.bin %> import /srv/mail/a/etc /srv/mail/b/etc --group moved --dry-run',
    '<%= config.bin %> import --config-directory /srv/mail/a/etc --config-directory /srv/mail/b/etc',
  ];
  static override enableJsonFlag = true;
  static override strict = false;
  static override args = {
    instance: Args.string({ required: false, description: "a config directory, or an instance name (sets its config directory); '-' keeps a single one nameless (several may be given)" }),
  };
  static override flags = {
    name: Flags.string({ char: 'I', description: 'rename the instance on import', helpValue: 'NAME' }),
    group: Flags.string({ char: 'G', description: "(re)group the instances on import ('-' for none)", helpValue: 'GROUP' }),
    'config-directory': Flags.string({
      description: "an instance's config directory (default: derived from its name, as create derives it); repeatable: one instance each",
      helpValue: 'PATH',
      multiple: true,
      multipleNonGreedy: true,
    }),
    ...placementFlags,
    ...dryRunFlag,
    ...configDirFlag,
  };

  async run(): Promise<lifecycle.ChangeAnswer> {
    const parsed = await this.parse(Import);
    const { flags } = parsed;
    const words = this.positionalWords(parsed);
    const dirs = flags['config-directory'] ?? [];
    // One instance: a name or a directory, and the flags that rename, place or locate it. Else
    // every argument and every --config-directory is an instance of its own.
    const one = words.length + dirs.length <= 1 || (words.length === 1 && dirs.length === 1 && !words[0]!.startsWith('/'));
    let requests: lifecycle.AddRequest[];
    if (one) {
      requests = [importRequest(words[0], { ...flags, 'config-directory': dirs[0] })];
    } else {
      const all = [...words, ...dirs];
      const single = (['name', 'before', 'before-group', 'first'] as const).find((f) => flags[f] !== undefined && flags[f] !== false);
      if (single !== undefined) throw new PostfleetError(`--${single} takes one instance, not ${all.length} (${all.join(' ')})`);
      for (const d of dirs) checkPrivatePath('config_directory', d);
      requests = all.map((w) => importRequest(w, { group: flags.group }));
    }
    const report = await lifecycle.importInstances(lifecycleContext(flags), requests);
    return renderReport(report, this.jsonEnabled(), (l) => this.log(l), flags['config-dir']);
  }
}

/** One instance to import: WORD is its config directory (a path) or its name; the flags say the rest. */
function importRequest(word: string | undefined, flags: ImportFlags): lifecycle.AddRequest {
  const clear = (v: string | undefined): string | undefined => (v === '-' ? '' : v);
  const paths = pathsFromFlags(flags, ['config_directory']);
  let name = clear(flags.name);
  // (a path with a --config-directory too is two instances: run() never passes both)
  if (word?.startsWith('/')) {
    paths.config_directory = checkPrivatePath('config_directory', word);
  } else if (word !== undefined) {
    if (flags.name !== undefined && word !== flags.name) throw new PostfleetError(`give the name once: '${word}' or --name '${flags.name}'`);
    name = clear(word);
  }
  return { name, group: clear(flags.group), paths, placement: placementFromFlags(flags) };
}
