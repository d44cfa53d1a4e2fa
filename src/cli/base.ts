/**
 * The edge where errors are rendered: every failure is one line on stderr,
 * `postfleet: message`, and a non-zero exit.
 */
import { Command } from '@oclif/core';
import { isPostfleetError } from '../instances/errors.js';
import type { FleetEntry } from '../instances/instance.js';

export abstract class PostfleetCommand extends Command {
  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (isPostfleetError(err)) {
      process.stderr.write(`postfleet: ${err.message}\n`);
      this.exit(err.exitCode);
    }
    // oclif's own exits (this.exit, --help) pass through untouched.
    if (err.oclif?.exit !== undefined && err.message.startsWith('EEXIT')) throw err;
    const first = (err.message ?? String(err)).split('\n')[0]?.trim() ?? '';
    process.stderr.write(`postfleet: ${first}\n`);
    this.exit(err.oclif?.exit ?? 2);
  }

  /** Fault isolation: broken instances are named on stderr; the caller goes on. */
  protected reportBroken(entries: readonly FleetEntry[]): number {
    let n = 0;
    for (const e of entries) {
      if (e.kind !== 'broken') continue;
      n++;
      process.stderr.write(`postfleet: skipping instance ${e.broken.configDirectory}: ${e.broken.reason}\n`);
    }
    return n;
  }
}
