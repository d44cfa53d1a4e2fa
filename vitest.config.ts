import { defineConfig } from 'vitest/config';

// Integration tests run the real Postfix inside private namespaces (test/helpers/sandbox.ts):
// slow-ish (Postfix start/stop, postmulti) and mostly waiting, so generous timeouts and a
// modest number of parallel test files. POSTFLEET_TEST_WORKERS overrides the file parallelism.
const workers = Number(process.env.POSTFLEET_TEST_WORKERS) > 0 ? Number(process.env.POSTFLEET_TEST_WORKERS) : 2;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: workers,
    minWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    restoreMocks: true,
    // Tests that load a fleet in-process must not use (or fill) the host's settings cache in
    // /var/cache/postfleet; the cache's own tests name their directories. Sandboxed runs of
    // postfleet get a clean environment and use /var/cache inside their overlay.
    env: { POSTFLEET_CACHE_DIR: '' },
  },
});
