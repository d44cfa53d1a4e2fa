// Entry point of dist/bundle/cli.js (see bundle.mjs): oclif's runner, bundled together with the
// commands so that they share one copy of @oclif/core.
export { execute } from '@oclif/core/execute';
