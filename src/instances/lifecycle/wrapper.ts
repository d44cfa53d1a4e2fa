import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PostfleetError } from '../errors.js';

/**
 * The multi_instance_wrapper value `init` writes. postfix(1) runs the wrapper
 * with PATH reset to a root path, so neither `node` nor `postfleet` can be
 * left to a PATH lookup: both are written as absolute paths. postfix(1)
 * splits the value on white space, hence the refusal of paths holding any.
 */
export function wrapperCommand(): string {
  const script = realpathSync(fileURLToPath(new URL('../../../bin/run.js', import.meta.url)));
  const node = realpathSync(process.execPath);
  for (const p of [node, script]) {
    if (/\s/.test(p)) throw new PostfleetError(`cannot use ${p} in multi_instance_wrapper: it contains white space`);
  }
  return `${node} ${script} -p --`;
}
