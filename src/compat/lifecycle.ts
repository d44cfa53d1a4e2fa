/**
 * postmulti -e ACTION in compat mode: postmulti's arguments mapped onto the
 * life-cycle actions. Silent on success, as postmulti is.
 */
import { PostfleetError } from '../instances/errors.js';
import * as lifecycle from '../instances/lifecycle/actions.js';
import { parsePathAssignment, type PrivatePathParam } from '../instances/lifecycle/names.js';
import { wrapperCommand } from '../instances/lifecycle/wrapper.js';
import type { CompatRequest, EditAction } from './parse.js';

export async function runCompatLifecycle(request: CompatRequest, defaults: ReadonlyMap<string, string>, prog: string): Promise<number> {
  const ctx: lifecycle.LifecycleContext = { defaults };
  const report = await run(request.mode as EditAction, request, ctx);
  for (const w of report.warnings) process.stderr.write(`${prog}: warning: ${w}\n`);
  // Under systemd with postfleet's units, the change reaches them at once (systemd/sync.ts).
  const { keepSystemdCurrent } = await import('../systemd/sync.js');
  const systemd = await keepSystemdCurrent(report);
  for (const e of systemd?.errors ?? []) process.stderr.write(`${prog}: warning: systemd: ${e}\n`);
  return systemd !== undefined && systemd.errors.length > 0 ? 1 : 0;
}

function run(action: EditAction, r: CompatRequest, ctx: lifecycle.LifecycleContext): Promise<lifecycle.ChangeReport> {
  switch (action) {
    case 'init':
      return lifecycle.init(ctx, wrapperCommand());
    case 'create':
    case 'import': {
      const paths: Partial<Record<PrivatePathParam, string>> = {};
      for (const arg of r.operands) {
        const { param, value } = parsePathAssignment(arg, action);
        paths[param] = value;
      }
      const req: lifecycle.AddRequest = { name: r.assignName, group: r.assignGroup, paths, placement: r.selection };
      return action === 'create' ? lifecycle.create(ctx, [req]) : lifecycle.importInstances(ctx, [req]);
    }
    case 'deport':
    case 'destroy':
      // postmulti's -e deport/destroy: one instance, named by -i
      if (r.selection?.type !== 'name') throw new PostfleetError("Select an instance via '-i name'");
      return lifecycle.remove(ctx, action, { names: [r.selection.name] });
    case 'enable':
    case 'disable':
      // postmulti's -e enable/disable: one instance, named by -i
      if (r.selection?.type !== 'name') throw new PostfleetError("Select an instance via '-i name'");
      return lifecycle.setEnabled(ctx, { names: [r.selection.name] }, action === 'enable');
    case 'assign':
      return lifecycle.assign(ctx, r.selection, r.assignName, r.assignGroup);
  }
  throw new PostfleetError(`unknown action ${String(action)}`);
}
