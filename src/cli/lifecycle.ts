/** What the life-cycle commands share: flags, context and the rendering of a result. */
import * as Flags from '@oclif/core/flags';
import type { ActionResult, LifecycleContext } from '../instances/lifecycle/operations.js';
import { loadDefaults } from '../instances/maincf/defaults.js';

export const dryRunFlag = {
  'dry-run': Flags.boolean({ char: 'n', description: 'print what would change, change nothing' }),
};

export const placementFlags = {
  before: Flags.string({ description: 'insert before this instance in the list', helpValue: 'NAME', exclusive: ['before-group', 'first'] }),
  'before-group': Flags.string({ description: 'insert before the first member of this group', helpValue: 'GROUP', exclusive: ['before', 'first'] }),
  first: Flags.boolean({ description: 'insert first among the secondary instances', exclusive: ['before', 'before-group'] }),
};

export function lifecycleContext(flags: { 'config-dir'?: string | undefined; 'dry-run'?: boolean }): LifecycleContext {
  return { primaryConfigDirectory: flags['config-dir'], defaults: loadDefaults(), dryRun: Boolean(flags['dry-run']) };
}

export function renderResult(r: ActionResult, log: (line: string) => void): void {
  const who = r.instance ?? r.configDirectory;
  if (!r.changed) {
    log(`${r.action} ${who}: nothing to change`);
  } else {
    log(`${r.dryRun ? 'would ' : ''}${r.action} ${who}:`);
    for (const c of r.changes) log(`  ${c}`);
  }
  for (const w of r.warnings) process.stderr.write(`postfleet: warning: ${w}\n`);
}
