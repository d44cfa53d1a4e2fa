/**
 * `postfix check` on each selected instance, concurrently, its messages
 * folded into the check's problems. postfix(1) prints them only to a
 * terminal, so each runs on a pseudo-terminal (runner 'pty').
 */
import { planPostfixCommand } from '../fanout/command-class.js';
import type { Fleet } from '../registry.js';
import { runPlan, type RunResult } from '../fanout/runner.js';
import type { FleetSelection } from '../selection.js';
import type { Problem } from './problems.js';

/** One problem per message line; an exit status without a message is one too. */
export function postfixCheckProblems(results: readonly RunResult[]): Problem[] {
  const out: Problem[] = [];
  for (const r of results) {
    const lines = r.output.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    for (const line of lines) {
      out.push({
        severity: /\b(fatal|error|panic):/.test(line) ? 'error' : 'warning',
        check: 'postfix-check',
        instances: [r.instance],
        settings: [r.configDirectory],
        message: line,
      });
    }
    if (r.exitCode !== 0 && !out.some((p) => p.instances[0] === r.instance && p.severity === 'error')) {
      out.push({ severity: 'error', check: 'postfix-check', instances: [r.instance], settings: [r.configDirectory], message: `postfix check failed (exit ${r.exitCode})` });
    }
  }
  return out;
}

export async function runPostfixCheck(fleet: Fleet, selection: FleetSelection, parallel: number): Promise<Problem[]> {
  const plan = planPostfixCommand(fleet.entries, fleet.shared, fleet.commands, selection, ['check']);
  return postfixCheckProblems(await runPlan(plan.runs, { parallel, mode: 'pty' }));
}
