/**
 * Time in the tests, made to hold on a busy machine (two suites at once on 2 cores, or a
 * packager's build host):
 *
 * - budget(): a test's timeout sized to its work. A timeout is there to catch a hang, not
 *   slowness, so it is generous (STEP_MS per step).
 * - waitFor(): wait for a positive signal (a line, a file, a lock waiter) instead of
 *   sleeping and asserting that something has "still not happened".
 * - seededRandom(): random choices that can be replayed; the seed is printed when the test
 *   fails (POSTFLEET_TEST_SEED=N replays it).
 */
import { onTestFailed } from 'vitest';

/** POSTFLEET_TEST_TIME_SCALE=N stretches every budget (a very slow machine, a debugger). */
const SCALE = Number(process.env['POSTFLEET_TEST_TIME_SCALE']) > 0 ? Number(process.env['POSTFLEET_TEST_TIME_SCALE']) : 1;

/**
 * Budget of one step: one run of postfleet, postmulti or postfix in a sandbox, with its checks.
 * About a second alone on 2 cores; up to ~10 s was seen with two suites and other work
 * sharing the cores (load 20-45), most of it Node starting up.
 */
const STEP_MS = 15_000;

/** A test's timeout for `steps` sandbox steps (plus a fixed allowance for setting up). */
export function budget(steps: number): number {
  return Math.round((60_000 + steps * STEP_MS) * SCALE);
}

/**
 * Polls `probe` until it returns something other than undefined/false, and returns that.
 * Fails, naming `what`, after `timeoutMs` (default: one step's budget).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = (opts.timeoutMs ?? STEP_MS) * SCALE;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}

export interface SeededRandom {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  below(n: number): number;
}

/**
 * A replayable source of randomness for the current test: seeded from POSTFLEET_TEST_SEED,
 * else at random; the seed is printed if the test fails. Call it inside a test.
 */
export function seededRandom(): SeededRandom {
  const fromEnv = Number(process.env['POSTFLEET_TEST_SEED']);
  const seed = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv >>> 0 : (Math.floor(Math.random() * 0xffffffff) >>> 0) || 1;
  onTestFailed(() => {
    console.error(`random seed of the failed test: ${seed} (POSTFLEET_TEST_SEED=${seed} replays its choices)`);
  });
  // mulberry32: small, fast, and good enough to spread delays.
  let state = seed;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, next, below: (n: number) => Math.floor(next() * n) };
}
