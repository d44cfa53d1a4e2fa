/**
 * oclif's runner with postfleet's error line. Errors raised inside a command are rendered by
 * PostfleetCommand.catch; the ones raised before a command runs (an unknown command, a broken
 * install) reach this edge, where oclif would print its own multi-part " ›   Error: …" block.
 */
import { flush } from '@oclif/core/flush';
import { handle } from '@oclif/core/handle';
import { run } from '@oclif/core/run';
import { edgeMessage } from './base.js';

type OclifError = Error & { code?: string; oclif?: { exit?: number }; skipOclifErrorHandling?: boolean };

export async function execute(options: { dir: string; args?: string[] }): Promise<unknown> {
  try {
    const result = await run(options.args ?? process.argv.slice(2), options.dir);
    await flush();
    return result;
  } catch (caught) {
    const err = caught as OclifError;
    if (err.code !== 'EEXIT' && !err.skipOclifErrorHandling) {
      process.stderr.write(`postfleet: ${edgeMessage(err)}\n`);
      err.skipOclifErrorHandling = true;
    }
    // handle() sets the exit status (err.oclif.exit, else 1) and writes the debug log.
    return handle(err);
  }
}
