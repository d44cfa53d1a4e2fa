import { defineConfig } from 'vitest/config';

// Integration tests run the real Postfix inside private namespaces (test/helpers/sandbox.ts):
// slow-ish (Postfix start/stop, postmulti) and mostly waiting, so a modest number of parallel
// test files. POSTFLEET_TEST_WORKERS overrides the file parallelism.
//
// Timeouts catch hangs, not slowness: the suite must pass on a busy machine (two suites at
// once on 2 cores). The defaults below cover a test or hook of a few sandbox steps; a test
// that does more sets its own, sized to its work (budget() in test/helpers/timing.ts, which
// POSTFLEET_TEST_TIME_SCALE stretches). The defaults are budget(12) and budget(16).
const workers = Number(process.env.POSTFLEET_TEST_WORKERS) > 0 ? Number(process.env.POSTFLEET_TEST_WORKERS) : 2;
const scale = Number(process.env.POSTFLEET_TEST_TIME_SCALE) > 0 ? Number(process.env.POSTFLEET_TEST_TIME_SCALE) : 1;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: workers,
    minWorkers: 1,
    testTimeout: 240_000 * scale,
    hookTimeout: 300_000 * scale,
    teardownTimeout: 60_000 * scale,
    restoreMocks: true,
    // Tests that load a fleet in-process must not use (or fill) the host's settings cache in
    // /var/cache/postfleet; the cache's own tests name their directories. Sandboxed runs of
    // postfleet get a clean environment and use /var/cache inside their overlay.
    env: { POSTFLEET_CACHE_DIR: '' },
  },
});
