import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderMetrics, writeTextfile } from '../src/instances/observe/metrics.js';
import { arrivalTimeMs, scanQueue, scanQueues, QueueScanner } from '../src/instances/queue/count.js';

/** rec_put(): type, length in base-128 groups (low first), data. */
const record = (type: string, data: string): Buffer => {
  const bytes: number[] = [];
  let n = data.length;
  do {
    bytes.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from(type, 'latin1'), Buffer.from(bytes), Buffer.from(data, 'latin1')]);
};

describe('arrivalTimeMs', () => {
  it('reads the time record after the size record, with microseconds', () => {
    const size = record('C', `${' '.repeat(200)}`); // a length that needs two bytes
    expect(arrivalTimeMs(Buffer.concat([size, record('T', '1700000000 250000')]))).toBe(1_700_000_000_250);
    expect(arrivalTimeMs(record('T', '1700000001'))).toBe(1_700_000_001_000);
  });
  it('null without one, or on a truncated record', () => {
    expect(arrivalTimeMs(Buffer.from(''))).toBeNull();
    expect(arrivalTimeMs(record('M', ''))).toBeNull();
    expect(arrivalTimeMs(Buffer.from([0x54, 0x20, 0x31]))).toBeNull();
  });
});

describe('scanQueue / renderMetrics / writeTextfile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'postfleet-queue-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const q = join(dir, 'spool');
  for (const sub of ['deferred/A', 'deferred/B', 'maildrop', 'hold']) mkdirSync(join(q, sub), { recursive: true });
  writeFileSync(join(q, 'deferred/A/1'), record('T', '1000'));
  writeFileSync(join(q, 'deferred/B/2'), record('T', '900'));
  writeFileSync(join(q, 'maildrop/3'), 'no records here');
  utimesSync(join(q, 'maildrop/3'), 500, 500);

  it('counts hashed subdirectories; oldest by time record, else mtime; null for a missing queue', () => {
    expect(scanQueue(join(q, 'deferred'))).toEqual({ messages: 2, oldestArrivalMs: 900_000 });
    expect(scanQueue(join(q, 'maildrop'))).toEqual({ messages: 1, oldestArrivalMs: 500_000 });
    expect(scanQueue(join(q, 'hold'))).toEqual({ messages: 0, oldestArrivalMs: null });
    expect(scanQueue(join(q, 'deferred'), false)).toEqual({ messages: 2, oldestArrivalMs: null });
    expect(scanQueues(q).active).toBeNull();
  });

  it('QueueScanner scans each submitted directory once, answering in order', async () => {
    const scanner = new QueueScanner();
    scanner.submit([q, join(q, 'nosuch'), q]);
    expect(await scanner.finish()).toEqual([scanQueues(q), scanQueues(join(q, 'nosuch')), scanQueues(q)]);
  });

  it('renders the per-instance series', async () => {
    const text = await renderMetrics({
      selected: [
        { kind: 'ok', instance: { configDirectory: '/etc/postfix-a', queueDirectory: q, dataDirectory: '/d', name: 'postfix-a', group: 'g"1', enabled: true, primary: false } },
        { kind: 'broken', broken: { configDirectory: '/etc/postfix-x', primary: false, reason: 'x' } },
      ],
      problems: [{ severity: 'error', check: 'c', instances: ['postfix-a', 'other'], settings: [], message: 'm' }],
      running: new Map([['/etc/postfix-a', true]]),
      queues: new Map([[q, scanQueues(q)]]),
      now: 1_000_000,
    });
    expect(text).toContain('postfleet_queue_messages{postfix_instance="postfix-a",group="g\\"1",queue="deferred"} 2\n');
    expect(text).toContain('postfleet_queue_oldest_message_age_seconds{postfix_instance="postfix-a",group="g\\"1",queue="deferred"} 100\n');
    expect(text).toContain('postfleet_queue_messages{postfix_instance="postfix-a",group="g\\"1",queue="active"} 0\n');
    expect(text).toContain('postfleet_check_problems{postfix_instance="postfix-a",group="g\\"1",severity="error"} 1\n');
    expect(text).toContain('postfleet_check_problems{postfix_instance="postfix-a",group="g\\"1",severity="warning"} 0\n');
    expect(text).toContain('postfleet_instance_up{postfix_instance="postfix-a",group="g\\"1"} 1\n');
    expect(text).toContain('postfleet_broken_instances 1\n');
  });

  it('writes the textfile by rename, leaving nothing else; refuses a name the collector would skip', () => {
    const out = join(dir, 'tf');
    mkdirSync(out);
    writeTextfile(join(out, 'a.prom'), 'x 1\n');
    writeTextfile(join(out, 'a.prom'), 'x 2\n');
    expect(readdirSync(out)).toEqual(['a.prom']);
    expect(() => writeTextfile(join(out, 'a.txt'), '')).toThrow("must end in .prom");
    expect(() => writeTextfile(join(dir, 'nosuch', 'a.prom'), '')).toThrow(`cannot write ${join(dir, 'nosuch', 'a.prom')}: No such file or directory`);
  });
});
