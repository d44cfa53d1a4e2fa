/**
 * The health probe of an instance: its master runs (the same one after a reload, a new one
 * after a restart), and every inet service of its master.cf answers on the instance's own
 * address (smtp.ts). Read afresh from main.cf and master.cf each time: a probe after a change
 * sees what the reload made live. Several instances, and every service of each, are probed
 * at once.
 */
import { readFileSync } from 'node:fs';
import pMap from 'p-map';
import { instanceLabel, type Instance } from '../instance.js';
import { readMainCf } from '../maincf/defaults.js';
import { ParameterSet } from '../maincf/expand.js';
import { parseMasterCf, type MasterEntry } from '../mastercf/parse.js';
import { liveMaster } from './master.js';
import { probeTarget, type TargetResult } from './smtp.js';
import { isReachable, probeTargets, type UnreachableTarget } from './targets.js';

/** What the master must be for the instance to be healthy. */
export type MasterExpectation =
  | { readonly kind: 'running' }
  /** After a reload: the master that ran before it. */
  | { readonly kind: 'same'; readonly pid: number }
  /** After a restart: a master other than the one before (null: none ran). */
  | { readonly kind: 'new'; readonly previous: number | null };

interface MasterCheck {
  readonly running: boolean;
  readonly pid: number | null;
  readonly healthy: boolean;
  readonly error?: string;
}

export interface InstanceProbe {
  readonly instance: string;
  readonly configDirectory: string;
  readonly healthy: boolean;
  readonly master: MasterCheck;
  /** Every inet service, in master.cf order: its result, or why it could not be probed. */
  readonly services: ReadonlyArray<TargetResult | UnreachableTarget>;
  /** The first thing found wrong, in one line (none when healthy). */
  readonly error?: string;
  readonly durationMs: number;
}

export interface ProbeContext {
  readonly defaults: ReadonlyMap<string, string>;
  /** TCP port of a service name (/etc/services). */
  readonly port: (name: string) => number | undefined;
  readonly timeoutMs: number;
  /** RCPT TO address; undefined: postmaster@myhostname; null: stop after EHLO. */
  readonly rcpt: string | null | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** Instances probed at once by probeInstances() (each with all its services at once). */
const PROBES_IN_FLIGHT = 64;

export async function probeInstance(i: Instance, ctx: ProbeContext, expected: MasterExpectation = { kind: 'running' }): Promise<InstanceProbe> {
  const started = performance.now();
  const base = { instance: instanceLabel(i), configDirectory: i.configDirectory };
  const done = (master: MasterCheck, services: InstanceProbe['services'], error?: string): InstanceProbe => ({
    ...base,
    healthy: error === undefined,
    master,
    services,
    ...(error !== undefined ? { error } : {}),
    durationMs: Math.round(performance.now() - started),
  });
  const master = checkMaster(i, expected);
  if (!master.healthy) return done(master, [], master.error);
  let targets: ReturnType<typeof probeTargets>;
  try {
    const params = new ParameterSet(readMainCf(i.configDirectory), ctx.defaults, { configDirectory: i.configDirectory });
    targets = probeTargets(readMasterCf(`${i.configDirectory}/master.cf`), params, ctx.port);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return done(master, [], err.code !== undefined ? `cannot read ${err.path ?? i.configDirectory}: ${err.code}` : err.message);
  }
  const services = await Promise.all(targets.map(async (t) => (isReachable(t) ? probeTarget(t, ctx) : t)));
  const bad = services.find((s) => 'error' in s && s.error !== undefined);
  return done(master, services, bad === undefined ? undefined : `${bad.service} (master.cf line ${bad.line}): ${bad.error}`);
}

/** master.cf files parsed by content: a fleet's instances mostly carry the same file, parsed once (a line number names a line of any of them). */
const parsedMasterCf = new Map<string, MasterEntry[]>();
function readMasterCf(path: string): MasterEntry[] {
  const text = readFileSync(path, 'utf8');
  let entries = parsedMasterCf.get(text);
  if (entries === undefined) {
    entries = parseMasterCf(text, path);
    if (parsedMasterCf.size > 1000) parsedMasterCf.clear();
    parsedMasterCf.set(text, entries);
  }
  return entries;
}

function checkMaster(i: Instance, expected: MasterExpectation): MasterCheck {
  const pid = liveMaster(i.queueDirectory);
  const base = { running: pid !== null, pid };
  if (pid === null) return { ...base, healthy: false, error: 'master is not running' };
  if (expected.kind === 'same' && pid !== expected.pid) return { ...base, healthy: false, error: `master ${expected.pid} is gone; master ${pid} runs instead` };
  if (expected.kind === 'new' && pid === expected.previous) return { ...base, healthy: false, error: `master ${pid} still runs: it was not restarted` };
  return { ...base, healthy: true };
}

/** Several instances, PROBES_IN_FLIGHT at once; results in the order given. */
export function probeInstances(instances: readonly Instance[], ctx: ProbeContext, expected?: (i: Instance) => MasterExpectation): Promise<InstanceProbe[]> {
  return pMap(instances, (i) => probeInstance(i, ctx, expected?.(i)), { concurrency: PROBES_IN_FLIGHT });
}
