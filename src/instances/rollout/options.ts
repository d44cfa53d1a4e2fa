/**
 * A roll-out's settings, read from the command line and checked before anything is touched:
 * each bad value is refused in one line that names it. Pure.
 */
import { PostfleetError } from '../errors.js';

export interface RolloutSettings {
  /** Instances per batch: a count, or a percentage of the instances the roll-out reaches. */
  readonly batch: { readonly count: number } | { readonly percent: number };
  /** Between two batches. */
  readonly pauseMs: number;
  /** Failed instances tolerated; the next failure stops the roll-out. */
  readonly maxFailed: number;
  readonly probe: ProbeSettings;
}

export interface ProbeSettings {
  readonly timeoutMs: number;
  /** RCPT TO address; undefined: postmaster@myhostname; null (`none`): the probe stops after EHLO. */
  readonly rcpt: string | null | undefined;
}

/** `N` or `N%`: at least one instance, at most all of them. */
export function parseBatch(text: string): RolloutSettings['batch'] {
  const m = /^(\d+)(%?)$/.exec(text.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!m || !Number.isSafeInteger(n) || n < 1 || (m[2] === '%' && n > 100)) {
    throw new PostfleetError(`bad batch size '${text}': give a number of instances (1 or more) or a percentage (1% to 100%)`);
  }
  return m[2] === '%' ? { percent: n } : { count: n };
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `10s`, `2m`, `1h`, or a bare number of seconds (as Postfix's time parameters), fractions allowed. */
export function parseDuration(text: string, what: string, options: { allowZero: boolean }): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const ms = m ? Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!) : NaN;
  if (!m || !Number.isSafeInteger(ms) || ms > 7 * 24 * 3_600_000 || (ms === 0 && !options.allowZero)) {
    throw new PostfleetError(`bad ${what} '${text}': give a duration such as 500ms, 10s, 2m or 1h${options.allowZero ? '' : ' (more than 0)'}`);
  }
  return ms;
}

export function parseMaxFailed(text: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n)) throw new PostfleetError(`bad --max-failed '${text}': give a number of instances (0 or more)`);
  return n;
}

/** An address for RCPT TO (`none`: no MAIL and RCPT at all): no white space, angle brackets or control characters. */
export function parseProbeRcpt(text: string | undefined): string | null | undefined {
  if (text === undefined) return undefined;
  if (text === 'none') return null;
  // eslint-disable-next-line no-control-regex
  if (text === '' || /[\s<>\x00-\x1f\x7f]/.test(text)) throw new PostfleetError(`bad --probe-rcpt '${text}': give an address such as postmaster@example.com, or none`);
  return text;
}

export const DEFAULT_PROBE_TIMEOUT = '10s';

/** The batch size for `total` instances: a percentage rounds down (at least one). */
export function batchSize(batch: RolloutSettings['batch'], total: number): number {
  if ('count' in batch) return batch.count;
  return Math.max(1, Math.floor((total * batch.percent) / 100));
}

/** `items` in batches of batchSize(), in order. */
export function batchesOf<T>(items: readonly T[], batch: RolloutSettings['batch']): T[][] {
  const size = batchSize(batch, items.length);
  const out: T[][] = [];
  for (let k = 0; k < items.length; k += size) out.push(items.slice(k, k + size));
  return out;
}
