#!/usr/bin/env node
// postmulti-style argv (`postfleet -g mta -p reload`, and `postfleet -p -- start`
// from postfix(1) at boot) goes to the getopt-style compat module before oclif
// is even imported: oclif would take argv[0] as a command id, and this path
// must start fast.
const args = process.argv.slice(2);
const first = args[0];
const oclifOwn = new Set(['--help', '-h', '--version']);

if (first !== undefined && first.startsWith('-') && !oclifOwn.has(first)) {
  const { runCompat } = await import('../dist/compat/main.js');
  process.exitCode = await runCompat(args);
} else {
  // Sub-path imports: the package index loads every oclif module (~10 ms more).
  const { execute } = await import('@oclif/core/execute');
  await execute({ dir: import.meta.url });
}
