#!/usr/bin/env node
// postmulti-style argv (`postfleet -g mta -p reload`, and `postfleet -p -- start`
// from postfix(1) at boot) goes to the getopt-style compat module before oclif
// is even imported: oclif would take argv[0] as a command id, and this path
// must start fast.
//
// CommonJS (bin/package.json): a program whose first module is ESM starts Node's
// ESM loader, and then pays it for every module file; the direct route's files are
// CommonJS (scripts/bundle.mjs), loaded with require(), the rest with import().
'use strict';
const { readdirSync } = require('node:fs');
const path = require('node:path');
const { startEarly } = require('../dist/bundle/early.cjs');

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
  const dir = path.join(__dirname, '..', 'dist', 'bundle', 'commands');
  return new Set(readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)));
}

const given = process.argv.slice(2);
const args = configDirFirst(given) ?? given;
const first = args[0];

const compat = first !== undefined && first.startsWith('-') && !oclifOwn.has(first);
// The command's `postconf -d` starts now and runs while the modules load (src/cli/early.ts).
startEarly(args, compat);

if (compat) {
  import('../dist/bundle/compat/main.js')
    // (a rejection is left unhandled: Node prints it and exits 1, as after a top-level await)
    .then(async ({ runCompat }) => {
      process.exitCode = await runCompat(args);
    });
} else {
  // dist/bundle/ (scripts/bundle.mjs): oclif and the commands bundled together, so that
  // start-up does not resolve and compile @oclif/core's modules one by one.
  const oclif = async () => {
    const { execute } = await import('../dist/bundle/cli.js');
    // The package root: oclif reads its package.json (bin/package.json only says CommonJS).
    return execute({ dir: path.join(__dirname, '..'), args });
  };
  // The direct route (src/cli/direct.ts) runs the command without oclif's runner, or calls
  // oclif() where it cannot promise the same behaviour.
  const { runDirect } = require('../dist/bundle/direct/run.cjs');
  runDirect(path.join(__dirname, '..'), args, oclif);
}
