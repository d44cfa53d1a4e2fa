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
