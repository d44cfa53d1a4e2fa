/**
 * Start, stop, reload and restart of one instance under systemd, checked: postfleet looks at
 * where the instance's master runs before it acts (its own postfleet@ unit, another unit such
 * as Debian's postfix@, or outside any service unit), acts so that the state asked for is
 * reached whichever it is, and then looks again. A command that exits 0 has reached the state
 * it was asked for: the master runs (with a new process after a restart, the same one after
 * a reload) or it is gone.
 *
 * planControl() is pure: what to do, given what was found. controlInstance() does it.
 */
import type { Instance } from '../instances/instance.js';

export type ControlVerb = 'start' | 'stop' | 'reload' | 'restart';

/** A running master and the unit whose cgroup holds it (undefined: no service unit). */
export interface Master {
  readonly pid: number;
  readonly unit: string | undefined;
}

type ControlAction =
  | { readonly kind: 'systemctl'; readonly verb: ControlVerb; readonly unit: string }
  /** postfix(1) run directly for the instance: for a master no service unit owns. */
  | { readonly kind: 'postfix'; readonly verb: 'stop' | 'reload' };

export type Expectation =
  | { readonly running: false }
  | { readonly running: true; readonly unit?: string; readonly samePid?: number; readonly newPid?: number };

export interface ControlPlan {
  readonly actions: readonly ControlAction[];
  /** How the state is reached, when it is not by the instance's own unit alone (one line). */
  readonly note?: string;
  /** A failure known before anything is done (reload of a stopped instance). */
  readonly refusal?: string;
  readonly expect: Expectation;
}

const where = (m: Master): string => (m.unit !== undefined ? `in ${m.unit}` : `outside any service unit (master pid ${m.pid})`);

/** What to do to `verb` an instance whose unit is `unit`, its master being `master`. */
export function planControl(verb: ControlVerb, unit: string, master: Master | undefined): ControlPlan {
  const own = master !== undefined && master.unit === unit;
  const foreignService = master !== undefined && !own && master.unit !== undefined && master.unit.endsWith('.service') ? master.unit : undefined;
  const systemctl = (v: ControlVerb, u = unit): ControlAction => ({ kind: 'systemctl', verb: v, unit: u });
  switch (verb) {
    case 'start':
      if (master === undefined) return { actions: [systemctl('start')], expect: { running: true, unit } };
      if (own) return { actions: [systemctl('start')], expect: { running: true, samePid: master.pid } };
      return {
        actions: [],
        note: `already running ${where(master)}, not in ${unit}: left as it is ('postfleet postfix restart' moves it into ${unit})`,
        expect: { running: true, samePid: master.pid },
      };
    case 'stop':
      if (master === undefined || own) return { actions: [systemctl('stop')], expect: { running: false } };
      if (foreignService !== undefined) {
        return { actions: [systemctl('stop', foreignService), systemctl('stop')], note: `its master ran in ${foreignService}: stopped that unit`, expect: { running: false } };
      }
      return { actions: [{ kind: 'postfix', verb: 'stop' }, systemctl('stop')], note: `its master ran ${where(master)}: stopped with postfix stop`, expect: { running: false } };
    case 'reload':
      if (master === undefined) return { actions: [], refusal: 'not running: nothing to reload', expect: { running: false } };
      if (own) return { actions: [systemctl('reload')], expect: { running: true, samePid: master.pid } };
      if (foreignService !== undefined) {
        return { actions: [systemctl('reload', foreignService)], note: `its master runs in ${foreignService}: reloaded that unit`, expect: { running: true, samePid: master.pid } };
      }
      return { actions: [{ kind: 'postfix', verb: 'reload' }], note: `its master runs ${where(master)}: reloaded with postfix reload`, expect: { running: true, samePid: master.pid } };
    case 'restart':
      if (master === undefined) return { actions: [systemctl('restart')], expect: { running: true, unit } };
      if (own) return { actions: [systemctl('restart')], expect: { running: true, unit, newPid: master.pid } };
      if (foreignService !== undefined) {
        return {
          actions: [systemctl('stop', foreignService), systemctl('start')],
          note: `moved from ${foreignService} into ${unit}`,
          expect: { running: true, unit, newPid: master.pid },
        };
      }
      return {
        actions: [{ kind: 'postfix', verb: 'stop' }, systemctl('start')],
        note: `its master ran ${where(master)}: stopped with postfix stop, started in ${unit}`,
        expect: { running: true, unit, newPid: master.pid },
      };
  }
}

/** Whether what was found meets the expectation; else why not (one phrase). */
export function unmet(expect: Expectation, master: Master | undefined): string | undefined {
  if (!expect.running) return master === undefined ? undefined : `its master still runs (pid ${master.pid}, ${where(master)})`;
  if (master === undefined) return 'no master runs';
  if (expect.samePid !== undefined && master.pid !== expect.samePid) return `its master changed (pid ${expect.samePid} is gone, ${master.pid} runs)`;
  if (expect.newPid !== undefined && master.pid === expect.newPid) return `its master was not restarted (pid ${master.pid} still runs)`;
  if (expect.unit !== undefined && master.unit !== expect.unit) return `its master runs ${where(master)}, not in ${expect.unit}`;
  return undefined;
}

export interface Completed {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** What controlInstance() needs from the system; tests give stand-ins. */
export interface ControlSystem {
  readonly systemctl: (args: readonly string[]) => Promise<Completed>;
  /** postfix(1) for the instance (MAIL_CONFIG set), e.g. ['stop']. */
  readonly postfix: (instance: Instance, args: readonly string[]) => Promise<Completed>;
  readonly master: (instance: Instance) => Master | undefined;
  /** The unit's journal lines since `sinceMs` (epoch ms), shown when it failed. */
  readonly journal: (unit: string, sinceMs: number) => Promise<string>;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
}

export interface ControlOutcome {
  readonly exitCode: number;
  /** Lines for the operator: the note, and on failure what failed and why. */
  readonly output: string;
}

/** How long a master may take to appear or go once its unit's job is done. */
const SETTLE_MS = 15_000;

/** Acts on one instance and checks the result; `unit` is its postfleet@ unit. */
export async function controlInstance(verb: ControlVerb, instance: Instance, unit: string, sys: ControlSystem, settleMs = SETTLE_MS): Promise<ControlOutcome> {
  const since = sys.now();
  const plan = planControl(verb, unit, sys.master(instance));
  if (plan.refusal !== undefined) return { exitCode: 1, output: `${plan.refusal}\n` };
  const lines: string[] = plan.note !== undefined ? [plan.note] : [];
  for (const a of plan.actions) {
    const r = a.kind === 'systemctl' ? await sys.systemctl(['--no-ask-password', '--no-pager', a.verb, a.unit]) : await sys.postfix(instance, ['--', a.verb]);
    if (r.exitCode !== 0) {
      const what = a.kind === 'systemctl' ? `systemctl ${a.verb} ${a.unit}` : `postfix ${a.verb}`;
      lines.push(`${what} failed (exit ${r.exitCode})${r.stderr.trim() ? `: ${r.stderr.trim()}` : ''}`);
      if (a.kind === 'systemctl') {
        const journal = (await sys.journal(a.unit, since)).trim();
        if (journal) lines.push(...journal.split('\n').map((l) => `  ${l}`));
      }
      return { exitCode: r.exitCode, output: `${lines.join('\n')}\n` };
    }
  }
  // The unit's job is done when systemctl returns; a master may still be on its way in or out.
  const deadline = sys.now() + settleMs;
  let why = unmet(plan.expect, sys.master(instance));
  while (why !== undefined && sys.now() < deadline) {
    await sys.sleep(100);
    why = unmet(plan.expect, sys.master(instance));
  }
  if (why !== undefined) {
    lines.push(`${verb} did not take effect: ${why}`);
    const own = plan.actions.find((a) => a.kind === 'systemctl' && a.unit === unit);
    if (own !== undefined) {
      const journal = (await sys.journal(unit, since)).trim();
      if (journal) lines.push(...journal.split('\n').map((l) => `  ${l}`));
    }
    return { exitCode: 1, output: `${lines.join('\n')}\n` };
  }
  return { exitCode: 0, output: lines.length > 0 ? `${lines.join('\n')}\n` : '' };
}
