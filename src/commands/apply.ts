import { readFileSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { PostfleetCommand } from '../cli/base.js';
import { configDirFlag } from '../cli/flags.js';
import { dryRunFlag, lifecycleContext } from '../cli/lifecycle.js';
import { applyManifest, type InstanceOutcome } from '../instances/apply.js';
import { PostfleetError } from '../instances/errors.js';
import { parseManifest } from '../instances/manifest.js';
import { templateSearchPath } from '../instances/templates.js';

export default class Apply extends PostfleetCommand {
  static override summary = 'Make the instances match an INI manifest: create, regroup, reconfigure, enable or disable.';
  static override description = `One section per instance:

  [postfix-out]
  group = mta
  enabled = yes
  template = outbound-relay
  set.listen_address = 127.0.0.1
  set.bind_address = 192.0.2.25

Keys: group, enabled (yes/no), template, config_directory, queue_directory, data_directory, and set.NAME (a template variable, or else a main.cf parameter). Missing instances are created; existing ones are brought in line; instances not in the manifest are left alone. A second run changes nothing.`;
  static override examples = ['<%= config.bin %> apply fleet.ini --dry-run', '<%= config.bin %> apply fleet.ini --json'];
  static override enableJsonFlag = true;
  static override args = { manifest: Args.string({ required: true, description: 'INI manifest file' }) };
  static override flags = {
    'template-dir': Flags.string({ description: 'also look for templates here (searched first)', helpValue: 'DIR', multiple: true, multipleNonGreedy: true }),
    ...dryRunFlag,
    ...configDirFlag,
  };

  async run(): Promise<InstanceOutcome[]> {
    const { args, flags } = await this.parse(Apply);
    let text: string;
    try {
      text = readFileSync(args.manifest, 'utf8');
    } catch (e) {
      throw new PostfleetError(`cannot read manifest ${args.manifest}: ${(e as NodeJS.ErrnoException).code ?? e}`, { value: args.manifest });
    }
    const manifest = parseManifest(text, args.manifest);
    const outcomes = await applyManifest(lifecycleContext(flags), manifest, templateSearchPath(flags['template-dir']));
    if (!this.jsonEnabled()) {
      const verb = flags['dry-run'] ? 'would ' : '';
      for (const o of outcomes) {
        if (!o.changed) {
          this.log(`${o.instance}: up to date`);
          continue;
        }
        this.log(`${o.instance}: ${verb}${o.created ? 'create' : 'update'}`);
        for (const c of o.changes) this.log(`  ${c}`);
      }
      if (outcomes.every((o) => !o.changed)) this.log('nothing to change');
      for (const w of outcomes.flatMap((o) => o.warnings)) process.stderr.write(`postfleet: warning: ${w}\n`);
    }
    return outcomes;
  }
}
