import { readFileSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import { PostfleetCommand } from '../cli/base.js';
import { configDirFlag, defaultParallelism, parallelFlag } from '../cli/flags.js';
import { probeContext, rollingFlags, rolloutSettings, rollWithProgress } from '../cli/rollout.js';
import { reloadRuns, rollApply } from '../instances/rollout/drivers.js';
import type { RolloutReport } from '../instances/rollout/rollout.js';
import { dryRunFlag, lifecycleContext, renderReport, reportAddedErrors, templateDirFlag, type AnswerWithProblems } from '../cli/lifecycle.js';
import { applyManifest } from '../instances/lifecycle/actions.js';
import { parseManifest } from '../instances/lifecycle/manifest.js';
import { loadTemplate, templateSearchPath } from '../instances/templates/load.js';
import { fsError } from '../instances/files.js';

export default class Apply extends PostfleetCommand {
  static override summary = 'Make the instances match an INI manifest: create, regroup, reconfigure, enable, disable, destroy or deport.';
  static override description = `One section per instance:

  [postfix-out]
  group = mta
  enabled = yes
  template = outbound-relay
  set.listen_address = 127.0.0.1
  set.bind_address = 192.0.2.25

  [postfix-old]
  state = absent

Keys: state (present, the default; absent; deported), group, enabled (yes/no), template, config_directory, queue_directory, data_directory, and set.NAME (a template variable, or else a main.cf parameter). Missing instances are created; existing ones are brought in line; an instance whose state is absent is destroyed and one whose state is deported is taken off the list, under the rules of destroy and deport (disabled, stopped, and for absent an empty queue: otherwise the whole manifest is refused, naming each such instance and why); instances not in the manifest are left alone. The whole manifest is one plan, applied as one transaction: all of it or, if anything fails, none. A second run changes nothing. MANIFEST '-' reads standard input.

With --rolling the instances that change go batch by batch instead: each batch applied (one transaction), its running instances reloaded and probed; a batch that fails its probes is undone and reloaded back, and the roll-out stops.`;
  static override examples = [
    '<%= config.bin %> apply fleet.ini --dry-run',
    '<%= config.bin %> apply fleet.ini --json',
    'generate-manifest | <%= config.bin %> apply -',
    '<%= config.bin %> apply fleet.ini --rolling --batch 10% --max-failed 1',
  ];
  static override enableJsonFlag = true;
  static override args = { manifest: Args.string({ required: true, description: "INI manifest file ('-': standard input)" }) };
  static override flags = { ...templateDirFlag, ...dryRunFlag, ...configDirFlag, ...rollingFlags, ...parallelFlag };

  async run(): Promise<AnswerWithProblems | RolloutReport> {
    const { args, flags } = await this.parse(Apply);
    // --rolling (cli/rollout.ts): checked before the manifest is read.
    const rolling = rolloutSettings(flags);
    const source = args.manifest === '-' ? 'standard input' : args.manifest;
    let text: string;
    try {
      text = readFileSync(args.manifest === '-' ? 0 : args.manifest, 'utf8');
    } catch (e) {
      throw fsError('read manifest', source, e);
    }
    const searchPath = templateSearchPath(flags['template-dir']);
    const desired = parseManifest(text, source).map((m) => ({ ...m, loadedTemplate: m.template === undefined ? undefined : loadTemplate(m.template, searchPath) }));
    const ctx = lifecycleContext(flags);
    if (rolling !== undefined) {
      const rc = { settings: rolling, commands: reloadRuns(flags['config-dir'], ctx.defaults, flags.parallel ?? defaultParallelism()), probe: probeContext(rolling.probe, ctx.defaults) };
      return rollWithProgress(this.jsonEnabled(), (l) => this.log(l), (emit) => rollApply(ctx, desired, { ...rc, emit }));
    }
    const report = await applyManifest(ctx, desired);
    if (!this.jsonEnabled()) {
      for (const r of report.instances) {
        this.log(r.changed ? `${r.instance}: ${report.dryRun ? 'would ' : ''}${r.action}` : `${r.instance}: up to date`);
        for (const c of r.changes) this.log(`  ${c}`);
      }
      if (!report.changed) this.log('nothing to change');
    }
    return { ...(await renderReport(report, true, (l) => this.log(l), flags['config-dir'])), problems: await reportAddedErrors(report, ctx) };
  }
}
