/**
 * The check's errors that a change adds to the fleet: what create and apply print. The
 * report's files say what each main.cf was and is (or would be); the fleet is read as it is
 * now, which is before the change with --dry-run and after it otherwise.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { ChangeReport } from '../lifecycle/report.js';
import { parseMainCf } from '../maincf/parse.js';
import { parametersFrom } from '../parameters.js';
import { secondaryFromSettings, type Instance } from '../instance.js';
import type { ParameterSet } from '../maincf/expand.js';
import type { Fleet } from '../registry.js';
import { gatherFleetFacts, plannedInstanceFacts } from './facts.js';
import { checkFleet, problemKey, type FleetFacts, type InstanceFacts, type Problem } from './problems.js';

/** `parametersOf`: the fleet's parameters as they were read with it (loadFleetParameters()). */
export function errorsAddedBy(report: ChangeReport, fleet: Fleet, parametersOf: (i: Instance) => ParameterSet = parametersFrom(fleet)): Problem[] {
  const texts = new Map(report.files.map((d) => [d.path, d]));
  const changed = report.instances.filter((i) => i.changed && i.configDirectory !== fleet.primaryConfigDirectory && i.action !== 'destroy' && i.action !== 'deport' && texts.has(`${i.configDirectory}/main.cf`));
  if (changed.length === 0) return [];
  // Errors only: whether masters run and directories exist decide warnings, not errors, so they are not looked at.
  const now = gatherFleetFacts(fleet, parametersOf, [], { live: false });
  const masterProto = `${fleet.shared.metaDirectory}/master.cf.proto`;
  const factsOf = (dir: string, text: string): InstanceFacts => {
    const instance = secondaryFromSettings(dir, parseMainCf(text, `${dir}/main.cf`), fleet.defaults);
    const master = [`${dir}/master.cf`, masterProto].find((p) => existsSync(p));
    return plannedInstanceFacts(instance, parseMainCf(text), fleet.defaults, master === undefined ? '' : readFileSync(master, 'utf8'));
  };
  // The fleet as it is with each changed instance as its main.cf was (side 'before') or will be ('after').
  const withSide = (side: 'before' | 'after'): FleetFacts => {
    const replaced = new Map<string, InstanceFacts | undefined>();
    for (const i of changed) {
      const text = texts.get(`${i.configDirectory}/main.cf`)![side];
      replaced.set(i.configDirectory, text === '' ? undefined : factsOf(i.configDirectory, text));
    }
    const instances = now.instances.flatMap((f) => (replaced.has(f.instance.configDirectory) ? [] : [f]));
    return { ...now, instances: [...instances, ...[...replaced.values()].filter((f): f is InstanceFacts => f !== undefined)] };
  };
  // A problem that names no changed instance is the same before and after: only those that
  // name one can be new, and when every changed instance is new, all of those are.
  const labels = new Set(changed.map((i) => i.instance));
  const candidates = checkFleet(withSide('after')).filter((p) => p.severity === 'error' && p.instances.some((l) => labels.has(l)));
  if (candidates.length === 0) return [];
  if (changed.every((i) => texts.get(`${i.configDirectory}/main.cf`)!.before === '')) return candidates;
  const old = new Set(checkFleet(withSide('before')).map(problemKey));
  return candidates.filter((p) => !old.has(problemKey(p)));
}
