/**
 * The edge where errors are rendered: every failure is one line on stderr,
 * `postfleet: message`, and a non-zero exit.
 */
import { Command } from '@oclif/core/command';
import { isPostfleetError } from '../instances/errors.js';
import { reportBroken, type FleetEntry } from '../instances/instance.js';

export abstract class PostfleetCommand extends Command {
  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (isPostfleetError(err)) {
      process.stderr.write(`postfleet: ${err.message}\n`);
      this.exit(err.exitCode);
    }
    // oclif's own exits (this.exit, --help) pass through untouched.
    if (err.oclif?.exit !== undefined && err.message.startsWith('EEXIT')) throw err;
    process.stderr.write(`postfleet: ${oneLineMessage(err.message ?? String(err))}\n`);
    this.exit(err.oclif?.exit ?? 2);
  }

  /**
   * The positional words of a non-strict command, in the order given. oclif sorts its own
   * `argv` by where each word first occurs on the command line, so a word that also occurs
   * earlier (a flag's value: `exec -c DIR -- sh -c CMD`, `exec -i x -- grep x`) jumps ahead.
   * Its raw tokens keep the order; only unknown options given without `--` (oclif's
   * nonExistentFlags, e.g. `exec postqueue -p`) are left to its argv, as they are not among them.
   */
  protected positionalWords(parsed: { argv: unknown[]; raw: ReadonlyArray<{ type: string; input: string }>; nonExistentFlags: unknown[] }): string[] {
    if (parsed.nonExistentFlags.length > 0) return parsed.argv as string[];
    return parsed.raw.filter((t) => t.type === 'arg').map((t) => t.input);
  }

  /** Fault isolation: broken instances are named on stderr; the caller goes on. */
  protected reportBroken(entries: readonly FleetEntry[]): number {
    return reportBroken(entries, (line) => process.stderr.write(`postfleet: ${line}\n`));
  }
}

/**
 * oclif's parse errors span lines, the offending flag or value on the second
 * ("Parsing --parallel\n\tExpected an integer … but received: 0\nSee more
 * help with --help"): folded into one line that keeps it.
 */
export function oneLineMessage(message: string): string {
  const lines = message
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter((l) => l !== '' && !l.startsWith('See more help with'));
  if (lines.length > 1 && /^The following errors occurred:?$/.test(lines[0]!)) return lines.slice(1).join('; ');
  return lines.reduce((line, next) => (line === '' ? next : `${line}${line.endsWith(':') ? '' : ':'} ${next}`), '');
}

/**
 * The line for an error that reached the runner's edge without passing through
 * PostfleetCommand.catch (an unknown command, a broken install), on either route
 * (execute.ts, direct.ts).
 */
export function edgeMessage(err: { message?: string }): string {
  const message = oneLineMessage(err.message ?? String(err));
  const unknown = /^command (.+) not found$/.exec(message);
  return unknown ? `unknown command: ${unknown[1]} (postfleet --help lists the commands)` : message;
}
