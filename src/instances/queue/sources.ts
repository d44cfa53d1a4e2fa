/**
 * What the readers need to know of each instance, from its parameters (read natively, see
 * parameters.ts): how showq of that instance shows addresses (smtputf8_enable,
 * empty_address_recipient, duplicate_filter_limit) and where it keeps hashed files
 * (hash_queue_names, hash_queue_depth).
 */
import { PostfleetError } from '../errors.js';
import { instanceLabel, type Instance } from '../instance.js';
import type { ParameterSet } from '../maincf/expand.js';
import { hashLayout } from './layout.js';
import type { QueueSource } from './scan.js';

export function queueSource(i: Instance, parameters: ParameterSet): QueueSource | { instance: string; error: string } {
  try {
    const limit = Number.parseInt(parameters.get('duplicate_filter_limit'), 10);
    return {
      instance: instanceLabel(i),
      queueDirectory: i.queueDirectory,
      read: {
        smtputf8: parameters.get('smtputf8_enable').toLowerCase() === 'yes',
        emptyAddress: parameters.get('empty_address_recipient') || 'MAILER-DAEMON',
        duplicateFilterLimit: Number.isFinite(limit) && limit >= 0 ? limit : 1000,
      },
      layout: hashLayout(parameters.get('hash_queue_names'), parameters.get('hash_queue_depth')),
    };
  } catch (e) {
    if (!(e instanceof PostfleetError)) throw e;
    return { instance: instanceLabel(i), error: e.message };
  }
}
