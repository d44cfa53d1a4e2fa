/**
 * The JSON answer of a change stays small at fleet size: `enable -g` of 1000 instances with
 * --json prints each main.cf as a unified diff (one changed line in context), under 2 MB,
 * where the whole texts before and after would be tens of megabytes. The fleet is
 * bench/mkfleet.sh's (one postmulti create, 999 copies of it).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, requireIntegration, Sandbox } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

const N = 1000;

describe.runIf(requireIntegration())(`--json of enable -g on ${N} instances`, () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk(`postmulti -e init && bash ${path.join(REPO_ROOT, 'bench', 'mkfleet.sh')} ${N} no`);
  }, budget(40));
  afterAll(async () => {
    await sb?.dispose();
  });

  it('prints under 2 MB: a unified diff per main.cf', { timeout: budget(30) }, async () => {
    const r = await sb.run('postfleet enable -g bench --json > /srv/enable.json; echo $?; wc -c < /srv/enable.json; cat /etc/postfix-b*/main.cf | wc -c');
    const [exit, printed, texts] = r.stdout.trim().split('\n').map(Number) as [number, number, number];
    expect(exit, r.stderr).toBe(0);
    // whole texts before and after: what the answer held before it held diffs
    console.log(`enable -g of ${N} instances, --json: ${printed} bytes (whole texts before and after: ${2 * texts} bytes)`);
    expect(printed).toBeLessThan(2_000_000);

    const answer = JSON.parse(await sb.readFile('/srv/enable.json')) as { changed: boolean; instances: unknown[]; diff: Array<{ path: string; unified: string }> };
    expect(answer.changed).toBe(true);
    expect(answer.instances).toHaveLength(N);
    expect(answer.diff).toHaveLength(N);
    // each one as diff -u prints it: the one line replaced, in context
    const reference = await sb.run(
      "sed 's/^multi_instance_enable = yes$/multi_instance_enable = no/' /etc/postfix-b7/main.cf > /srv/b7.before && diff -u --label /etc/postfix-b7/main.cf --label /etc/postfix-b7/main.cf /srv/b7.before /etc/postfix-b7/main.cf",
    );
    expect(reference.exitCode).toBe(1);
    expect(answer.diff.find((d) => d.path === '/etc/postfix-b7/main.cf')?.unified).toBe(reference.stdout);
    for (const d of answer.diff) expect(d.unified).toMatch(/^-multi_instance_enable = no\n\+multi_instance_enable = yes\n/m);
  });
});
