/**
 * The read cache (src/instances/queue/read-cache.ts) under scanInstance(): a second reading
 * stats instead of reading, and never answers from the cache what the files no longer say.
 * Each reading is compared with one that has no cache. `startedAt` stands for the clock: a
 * reading "begun" well after the files were written may keep them, one begun less than
 * RACY_MS after may not.
 */
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_HASH_LAYOUT, type MessageQueue } from '../src/instances/queue/layout.js';
import type { ReadOptions } from '../src/instances/queue/queue-file.js';
import { cacheMinimumFromEnvironment, RACY_MS } from '../src/instances/queue/read-cache.js';
import { scanInstance, type QueueMessage, type QueueSource, type ScanOptions } from '../src/instances/queue/scan.js';
import { queueFile } from './helpers/queue-files.js';

const OPTIONS: ReadOptions = { smtputf8: true, emptyAddress: 'MAILER-DAEMON', duplicateFilterLimit: 1000 };
const ALL: readonly MessageQueue[] = ['maildrop', 'active', 'incoming', 'deferred', 'hold', 'corrupt'];
const root = mkdtempSync(join(tmpdir(), 'postfleet-queue-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
let q = '';
let cacheDir = '';
let source: QueueSource;

function write(path: string, bytes: Buffer | string, mode = 0o700): void {
  mkdirSync(join(q, path, '..'), { recursive: true });
  writeFileSync(join(q, path), bytes, { mode });
  chmodSync(join(q, path), mode);
}

const later = (): number => Date.now() + 10 * RACY_MS;
const byId = (a: QueueMessage, b: QueueMessage): number => (a.queue_id < b.queue_id ? -1 : 1);

/** A reading with the cache (begun at `startedAt`), and one without: both, sorted by id. */
function scan(startedAt = later(), options: Partial<ScanOptions> = {}) {
  const cached = scanInstance(source, { queues: ALL, reasons: true, cacheDirectory: cacheDir, cacheMinMessages: 0, startedAt, ...options });
  const plain = scanInstance(source, { queues: ALL, reasons: true, ...options });
  return { cached: cached.messages.sort(byId), plain: plain.messages.sort(byId), problems: cached.problems };
}

/** The cache files, by name. */
const cacheFiles = (): string[] => (existsSync(join(cacheDir, 'queue')) ? readdirSync(join(cacheDir, 'queue')).sort() : []);

/** Rewrites every occurrence of `from` in the cache files by `to` (same length): a forged cache. */
function forge(from: string, to: string): void {
  expect(to).toHaveLength(from.length);
  for (const f of cacheFiles()) {
    const path = join(cacheDir, 'queue', f);
    const bytes = readFileSync(path, 'latin1');
    expect(bytes).toContain(from);
    writeFileSync(path, bytes.replaceAll(from, to), { encoding: 'latin1', mode: 0o600 });
    chmodSync(path, 0o600);
  }
}

beforeEach(() => {
  const dir = join(root, `t${n++}`);
  q = join(dir, 'spool');
  cacheDir = join(dir, 'cache');
  source = { instance: 'i', queueDirectory: q, read: OPTIONS, layout: DEFAULT_HASH_LAYOUT };
  write('deferred/A/A1B2C3D4E5', queueFile({ sender: 'alice@example.org', recipients: ['b@y', 'c@y'] }));
  write('defer/A/A1B2C3D4E5', 'recipient=b@y\nreason=refused\n\n');
  write('deferred/B/B1B2C3D4E5', queueFile({ sender: 'alice@example.org', recipients: ['d@y'] }));
  write('defer/B/B1B2C3D4E5', 'recipient=d@y\nreason=timed out\n\n');
  write('hold/C0000000001', queueFile({ sender: 'holly@example.org', recipients: ['e@y'] }));
  write('active/D0000000002', queueFile({ sender: 'ann@example.org', recipients: ['f@y'] }));
});

describe('the queue read cache', () => {
  it('a second reading answers from the cache, and the same as a reading without one', () => {
    const first = scan();
    expect(first.cached).toEqual(first.plain);
    expect(first.cached).toHaveLength(4);
    expect(cacheFiles()).toEqual([expect.stringMatching(/^[0-9a-f]{24}-0-1\.bin$/)]);
    const file = join(cacheDir, 'queue', cacheFiles()[0]!);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(cacheDir, 'queue')).mode & 0o777).toBe(0o700);
    // It is the cache that answers: what it says is believed while the files' stats match.
    forge('alice@example.org', 'mallo@example.org');
    const second = scan();
    expect(second.cached.map((m) => m.sender)).toEqual(['mallo@example.org', 'mallo@example.org', 'holly@example.org', 'ann@example.org']);
    expect(second.plain.map((m) => m.sender)).toEqual(['alice@example.org', 'alice@example.org', 'holly@example.org', 'ann@example.org']);
  });

  it('nothing that changed less than RACY_MS before the reading began is kept', () => {
    const ctimes = ['deferred/A/A1B2C3D4E5', 'defer/A/A1B2C3D4E5', 'deferred/B/B1B2C3D4E5', 'defer/B/B1B2C3D4E5', 'hold/C0000000001', 'active/D0000000002'].map((p) => statSync(join(q, p)).ctimeMs);
    expect(scan(Math.min(...ctimes) + RACY_MS - 1).cached).toHaveLength(4);
    expect(cacheFiles()).toEqual([]);
    scan(Math.max(...ctimes) + RACY_MS);
    forge('alice@example.org', 'mallo@example.org');
    expect(scan(Math.max(...ctimes) + RACY_MS).cached.filter((m) => m.sender === 'mallo@example.org')).toHaveLength(2);
  });

  it('a mode change (postsuper -e), a message moved, a defer log appended to or removed, a file gone: read anew', () => {
    scan();
    chmodSync(join(q, 'deferred/A/A1B2C3D4E5'), 0o710);
    mkdirSync(join(q, 'incoming'));
    renameSync(join(q, 'hold/C0000000001'), join(q, 'incoming/C0000000001'));
    appendFileSync(join(q, 'defer/B/B1B2C3D4E5'), 'recipient=d@y\nreason=now refused\n\n');
    rmSync(join(q, 'active/D0000000002'));
    const after = scan();
    expect(after.cached).toEqual(after.plain);
    expect(after.cached.find((m) => m.queue_id === 'A1B2C3D4E5')?.forced_expire).toBe(true);
    expect(after.cached.find((m) => m.queue_id === 'C0000000001')?.queue_name).toBe('incoming');
    expect(after.cached.find((m) => m.queue_id === 'B1B2C3D4E5')?.recipients).toEqual([
      { address: 'd@y', delay_reason: 'timed out' },
      { address: 'd@y', delay_reason: 'now refused' },
    ]);
    expect(after.cached.map((m) => m.queue_id)).not.toContain('D0000000002');
    rmSync(join(q, 'defer/A/A1B2C3D4E5'));
    const again = scan();
    expect(again.cached).toEqual(again.plain);
    expect(again.cached.find((m) => m.queue_id === 'A1B2C3D4E5')?.recipients).toEqual([{ address: 'b@y' }, { address: 'c@y' }]);
  });

  it('a file rewritten with the same size, mtime and mode, in place or replaced: read anew', () => {
    const inPlace = join(q, 'deferred/A/A1B2C3D4E5');
    const replaced = join(q, 'hold/C0000000001');
    for (const f of [inPlace, replaced]) utimesSync(f, 1_700_000_000, 1_700_000_000);
    scan();
    const before = [statSync(inPlace), statSync(replaced)].map((st) => [st.size, st.mtimeMs, st.mode]);
    writeFileSync(inPlace, queueFile({ sender: 'alice@example.org', recipients: ['x@y', 'z@y'] }));
    utimesSync(inPlace, 1_700_000_000, 1_700_000_000);
    writeFileSync(`${replaced}.new`, queueFile({ sender: 'jolly@example.org', recipients: ['e@y'] }), { mode: 0o700 });
    utimesSync(`${replaced}.new`, 1_700_000_000, 1_700_000_000);
    renameSync(`${replaced}.new`, replaced);
    expect([statSync(inPlace), statSync(replaced)].map((st) => [st.size, st.mtimeMs, st.mode])).toEqual(before);
    const after = scan();
    expect(after.cached).toEqual(after.plain);
    expect(after.cached.find((m) => m.queue_id === 'A1B2C3D4E5')?.recipients.map((r) => r.address)).toEqual(['b@y', 'x@y', 'z@y']);
    expect(after.cached.find((m) => m.queue_id === 'C0000000001')?.sender).toBe('jolly@example.org');
  });

  it('a summary (no defer logs) keeps the logs it did not read, a reading of some queues the entries of the others', () => {
    scan();
    // A new message: the summary writes the cache again.
    write('deferred/E/E0000000003', queueFile({ sender: 'eve@example.org', recipients: ['g@y'] }));
    const summary = scan(later(), { reasons: false, queues: ['deferred'] });
    expect(summary.cached).toEqual(summary.plain);
    expect(summary.cached).toHaveLength(3);
    forge('timed out', 'TIMED OUT');
    forge('holly@example.org', 'molly@example.org');
    const all = scan();
    expect(all.cached.find((m) => m.queue_id === 'B1B2C3D4E5')?.recipients[0]?.delay_reason).toBe('TIMED OUT');
    expect(all.cached.find((m) => m.queue_id === 'C0000000001')?.sender).toBe('molly@example.org');
  });

  it('is ignored when it is not the reader’s own, is writable by others, from the future, made for other settings, or broken', () => {
    /** A forged cache, tampered with, is not believed (and a reading without it writes it anew). */
    const expectIgnored = (tamper: (file: string) => void, startedAt = later(), options: Partial<ScanOptions> = {}): void => {
      rmSync(cacheDir, { recursive: true, force: true });
      scan();
      forge('alice@example.org', 'mallo@example.org');
      tamper(join(cacheDir, 'queue', cacheFiles()[0]!));
      const r = scan(startedAt, options);
      expect(r.cached).toEqual(r.plain);
      expect(r.cached.some((m) => m.sender === 'mallo@example.org')).toBe(false);
    };
    expectIgnored((file) => chmodSync(file, 0o602));
    expectIgnored((file) => chmodSync(file, 0o620));
    if (process.geteuid?.() === 0) expectIgnored((file) => chownSync(file, 65534, 65534));
    // Written "later" than this reading began: the clock went back.
    expectIgnored(() => undefined, Date.now());
    expectIgnored(() => (source = { ...source, read: { ...OPTIONS, smtputf8: false } }));
    source = { ...source, read: OPTIONS };
    expectIgnored((file) => writeFileSync(file, readFileSync(file).subarray(0, 200), { mode: 0o600 }));
    // An entry whose queue is out of range.
    expectIgnored((file) => {
      const bytes = readFileSync(file);
      const headLength = bytes.readUInt32LE(8);
      const header = JSON.parse(bytes.toString('utf8', 12, 12 + headLength)) as { floats: number };
      bytes.writeUInt32LE(0xffff, ((12 + headLength + 7) & ~7) + header.floats * 8 + 4);
      writeFileSync(file, bytes, { mode: 0o600 });
    });
  });

  it('fewer messages than the minimum (500 unless POSTFLEET_QUEUE_CACHE_MIN says otherwise) are not cached; a cache they had is removed', () => {
    scan();
    expect(cacheFiles()).toHaveLength(1);
    scanInstance(source, { queues: ALL, reasons: true, cacheDirectory: cacheDir, cacheMinMessages: 5, startedAt: later() });
    expect(cacheFiles()).toEqual([]);
    scanInstance(source, { queues: ALL, reasons: true, cacheDirectory: cacheDir, cacheMinMessages: 4, startedAt: later() });
    expect(cacheFiles()).toHaveLength(1);
    expect([cacheMinimumFromEnvironment({}), cacheMinimumFromEnvironment({ POSTFLEET_QUEUE_CACHE_MIN: '0' }), cacheMinimumFromEnvironment({ POSTFLEET_QUEUE_CACHE_MIN: 'x' })]).toEqual([500, 0, 500]);
  });

  it('shards keep caches of their own', () => {
    const sharded = (index: number) => scanInstance(source, { queues: ALL, reasons: true, cacheDirectory: cacheDir, cacheMinMessages: 0, startedAt: later(), shard: { index, count: 2 } });
    const parts = [0, 1].map(sharded);
    expect(cacheFiles()).toEqual([expect.stringMatching(/-0-2\.bin$/), expect.stringMatching(/-1-2\.bin$/)]);
    const again = [0, 1].map(sharded);
    expect(again.flatMap((p) => p.messages).sort(byId)).toEqual(parts.flatMap((p) => p.messages).sort(byId));
    expect(again.flatMap((p) => p.messages)).toHaveLength(4);
  });
});
