import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PostfleetError } from '../errors.js';

/** Where the Debian package puts the program, and the command it installs. */
const PACKAGED_LIBRARY = '/usr/lib/postfleet/';
const PACKAGED_COMMAND = '/usr/sbin/postfleet';

/**
 * The multi_instance_wrapper value `init` writes. postfix(1) runs the wrapper
 * with PATH reset to a root path, so neither `node` nor `postfleet` can be
 * left to a PATH lookup: both are written as absolute paths. postfix(1)
 * splits the value on white space, hence the refusal of paths holding any.
 *
 * A packaged install writes its command, /usr/sbin/postfleet: the line then names what the
 * package owns and keeps working across upgrades (and a node moved to another path).
 */
export function wrapperCommand(script = realpathSync(fileURLToPath(new URL('../../../bin/run.js', import.meta.url))), packagedCommandExists = existsSync(PACKAGED_COMMAND)): string {
  if (script.startsWith(PACKAGED_LIBRARY) && packagedCommandExists) return `${PACKAGED_COMMAND} -p --`;
  const node = realpathSync(process.execPath);
  for (const p of [node, script]) {
    if (/\s/.test(p)) throw new PostfleetError(`cannot use ${p} in multi_instance_wrapper: it contains white space`);
  }
  return `${node} ${script} -p --`;
}
