#!/usr/bin/env node
// postmulti-style argv (`postfleet -g mta -p reload`, and `postfleet -p -- start`
// from postfix(1) at boot) goes to the getopt-style compat module before oclif
// is even imported: oclif would take argv[0] as a command id, and this path
// must start fast.
const args = process.argv.slice(2);
const first = args[0];
const oclifOwn = new Set(['--help', '-h', '--version']);

if (first !== undefined && first.startsWith('-') && !oclifOwn.has(first)) {
  const { runCompat } = await import('../dist/bundle/compat/main.js');
  process.exitCode = await runCompat(args);
} else {
  // dist/bundle/ (scripts/bundle.mjs): oclif and the commands bundled together, so that
  // start-up does not resolve and compile @oclif/core's modules one by one.
  const { execute } = await import('../dist/bundle/cli.js');
  await execute({ dir: import.meta.url });
}
