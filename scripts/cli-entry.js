// Entry point of dist/bundle/cli.js (see bundle.mjs): oclif's runner (with postfleet's error
// line), bundled together with the commands so that they share one copy of @oclif/core.
export { execute } from '../dist/cli/execute.js';
