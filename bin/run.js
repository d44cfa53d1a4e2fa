#!/usr/bin/env node
// postmulti-style argv (`postfleet -g mta -p reload`, and `postfleet -p -- start`
// from postfix(1) at boot) goes to the getopt-style compat module before oclif
// is even imported: oclif would take argv[0] as a command id, and this path
// must start fast.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startEarly } from '../dist/bundle/early.js';

const oclifOwn = new Set(['--help', '-h', '--version']);

/**
 * `postfleet -c DIR COMMAND ...` (also --config-dir DIR, --config-dir=DIR) is
 * `postfleet COMMAND -c DIR ...`: `-c DIR` is how Postfix operators name an
 * instance. postmulti has no -c (it refuses it as an invalid option), so only
 * arguments postmulti refuses are read differently, and only when a postfleet
 * command follows; anything else goes to the compat parser and its errors.
 */
function configDirFirst(args) {
  const [option, value] = args;
  let taken;
  if (option === '-c' || option === '--config-dir') taken = 2;
  else if (option?.startsWith('--config-dir=')) taken = 1;
  else return undefined;
  if (taken === 2 && (value === undefined || value.startsWith('-'))) return undefined;
  const command = args[taken];
  if (command === undefined || !commandIds().has(command)) return undefined;
  return [command, ...args.slice(0, taken), ...args.slice(taken + 1)];
}

/** The commands oclif knows: one bundled file each (scripts/bundle.mjs). */
function commandIds() {
  const dir = new URL('../dist/bundle/commands/', import.meta.url);
  return new Set(readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)));
}

const given = process.argv.slice(2);
const args = configDirFirst(given) ?? given;
const first = args[0];

const compat = first !== undefined && first.startsWith('-') && !oclifOwn.has(first);
// The command's `postconf -d` starts now and runs while the modules load (src/cli/early.ts).
startEarly(args, compat);

if (compat) {
  const { runCompat } = await import('../dist/bundle/compat/main.js');
  process.exitCode = await runCompat(args);
} else {
  // dist/bundle/ (scripts/bundle.mjs): oclif and the commands bundled together, so that
  // start-up does not resolve and compile @oclif/core's modules one by one.
  const oclif = async () => {
    const { execute } = await import('../dist/bundle/cli.js');
    return execute({ dir: import.meta.url, args });
  };
  // The direct route (src/cli/direct.ts) runs the command without oclif's runner, or calls
  // oclif() where it cannot promise the same behaviour.
  const { runDirect } = await import('../dist/bundle/direct/run.js');
  await runDirect(fileURLToPath(new URL('..', import.meta.url)), args, oclif);
}
