import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { PostfleetCommand } from '../cli/base.js';
import { configDirFlag } from '../cli/flags.js';
import { dryRunFlag, lifecycleContext, placementFlags, renderReport, reportAddedErrors, templateDirFlag, type AnswerWithProblems } from '../cli/lifecycle.js';
import { PostfleetError } from '../instances/errors.js';
import { checkPrivatePath, type PrivatePathParam } from '../instances/lifecycle/names.js';
import * as lifecycle from '../instances/lifecycle/actions.js';
import type { Selection } from '../instances/selection.js';
import { loadTemplate, templateSearchPath } from '../instances/templates/load.js';
import { parseSetArguments } from '../instances/templates/render.js';

export const pathFlags = {
  'config-directory': Flags.string({ description: 'config directory (default: the primary’s with its last component replaced by NAME)', helpValue: 'PATH' }),
  'queue-directory': Flags.string({ description: 'queue directory (default: derived from NAME likewise)', helpValue: 'PATH' }),
  'data-directory': Flags.string({ description: 'data directory (default: derived from NAME likewise)', helpValue: 'PATH' }),
};

export function placementFromFlags(flags: { before?: string | undefined; 'before-group'?: string | undefined; first?: boolean }): Selection | undefined {
  if (flags.before !== undefined) return { type: 'name', name: flags.before };
  if (flags['before-group'] !== undefined) return { type: 'group', group: flags['before-group'] };
  if (flags.first) return { type: 'all' };
  return undefined;
}

export function pathsFromFlags(flags: Record<string, unknown>, names: readonly PrivatePathParam[]): Partial<Record<PrivatePathParam, string>> {
  const paths: Partial<Record<PrivatePathParam, string>> = {};
  for (const p of names) {
    const v = flags[p.replace('_', '-')];
    if (typeof v === 'string') paths[p] = checkPrivatePath(p, v);
  }
  return paths;
}

export default class Create extends PostfleetCommand {
  static override summary = 'Create a new secondary instance (disabled), optionally from a template.';
  static override description =
    'Makes the config, queue and data directories, builds main.cf from $meta_directory/main.cf.proto (plus the template and --set values) and master.cf from master.cf.proto, sets permissions as postfix set-permissions does, and registers the instance in the primary main.cf — under the same lock as postconf -e, so concurrent creates never lose each other. If the config directory already holds main.cf and master.cf, the instance is imported instead. Several names are made in one transaction (all or none) and appended to the list; placement and directory flags then do not apply.';
  static override examples = [
    '<%= config.bin %> create postfix-out --group mta',
    '<%= config.bin %> create postfix-relay --template outbound-relay --set relayhost=[smtp.example.com]:587',
    '<%= config.bin %> create postfix-in --first --dry-run',
    '<%= config.bin %> create postfix-a postfix-b postfix-c --group mta',
  ];
  static override enableJsonFlag = true;
  static override strict = false;
  static override args = { name: Args.string({ required: true, description: "instance name, starting with 'postfix-' (several may be given)" }) };
  static override flags = {
    group: Flags.string({ char: 'G', description: 'instance group', helpValue: 'GROUP' }),
    template: Flags.string({ char: 't', description: 'lay this template over the stock prototype', helpValue: 'NAME' }),
    ...templateDirFlag,
    set: Flags.string({ char: 's', description: 'template variable or main.cf parameter', helpValue: 'NAME=VALUE', multiple: true, multipleNonGreedy: true }),
    ...placementFlags,
    ...pathFlags,
    ...dryRunFlag,
    ...configDirFlag,
  };

  /** One name or several: one transaction, one report. */
  async run(): Promise<AnswerWithProblems> {
    const parsed = await this.parse(Create);
    const { flags } = parsed;
    const names = this.positionalWords(parsed);
    const settings = parseSetArguments(flags.set ?? []);
    const template = flags.template === undefined ? undefined : loadTemplate(flags.template, templateSearchPath(flags['template-dir']));
    if (names.length > 1) {
      const single = (['before', 'before-group', 'first', 'config-directory', 'queue-directory', 'data-directory'] as const).find((f) => flags[f] !== undefined && flags[f] !== false);
      if (single !== undefined) throw new PostfleetError(`--${single} takes one instance, not ${names.length} (${names.join(' ')})`);
    }
    // Several names take no placement or directory (refused above): the flags give none.
    const paths = pathsFromFlags(flags, ['config_directory', 'queue_directory', 'data_directory']);
    const requests = names.map((name): lifecycle.AddRequest => ({ name, group: flags.group, paths, placement: placementFromFlags(flags), template, settings }));
    const ctx = lifecycleContext(flags);
    const report = await lifecycle.create(ctx, requests);
    return { ...(await renderReport(report, this.jsonEnabled(), (l) => this.log(l), flags['config-dir'])), problems: await reportAddedErrors(report, ctx) };
  }
}
