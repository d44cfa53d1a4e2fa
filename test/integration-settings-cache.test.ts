/**
 * The settings cache in real use: listings fill /var/cache/postfleet, and whatever changes a
 * main.cf afterwards (postconf -e, postfleet's own actions, an editor writing in place) shows
 * in the very next listing, identical to what postmulti lists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET_FIXTURE } from './helpers/fleet.js';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';

const CACHE = '/var/cache/postfleet/main.cf-settings.json';

describe.runIf(requireIntegration())('settings cache', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk(FLEET_FIXTURE);
    // A main.cf is kept only once its ctime is 2 s old.
    await sb.runOk('sleep 2.1');
  });
  afterAll(async () => {
    await sb?.dispose();
  });

  /** postfleet -l and postmulti -l, which must agree. */
  async function listings(): Promise<string> {
    const pf = await sb.run('postfleet -l');
    const pm = await sb.run('postmulti -l');
    expect(pf.stdout).toBe(pm.stdout);
    expect(pf.exitCode).toBe(pm.exitCode);
    return pf.stdout;
  }

  it('is filled by a listing, private to root, and holds every instance', async () => {
    expect((await sb.run(`test -e ${CACHE}`)).exitCode).toBe(1);
    await listings();
    expect((await sb.runOk(`stat -c '%a %U' /var/cache/postfleet ${CACHE}`)).stdout).toBe('700 root\n600 root\n');
    const stored = JSON.parse((await sb.runOk(`cat ${CACHE}`)).stdout) as { entries: Record<string, unknown> };
    expect(Object.keys(stored.entries).sort()).toEqual(
      ['/etc/postfix', '/etc/postfix-a', '/etc/postfix-anon', '/etc/postfix-b', '/etc/postfix-verylongname-x', '/srv/pf-x', '/srv/pf-y']
        .map((d) => `${d}/main.cf`)
        .sort(),
    );
    // Served from the cache now: the same listing.
    const again = await listings();
    expect(again).toMatch(/^postfix-a +mta +y +\/etc\/postfix-a$/m);
  });

  it('shows a change made with postconf -e in the very next listing', async () => {
    await listings();
    await sb.runOk("postconf -c /etc/postfix-a -e 'multi_instance_group = edge'");
    expect(await listings()).toMatch(/^postfix-a +edge +y +\/etc\/postfix-a$/m);
    const json = JSON.parse((await sb.runOk('postfleet list --json')).stdout) as Array<{ name?: string; group?: string }>;
    expect(json.find((r) => r.name === 'postfix-a')?.group).toBe('edge');
  });

  it('shows a change made by postfleet itself (disable, assign)', async () => {
    await listings();
    await sb.runOk('postfleet -i postfix-a -e disable');
    await sb.runOk('postfleet assign postfix-b --group relay');
    const out = await listings();
    expect(out).toMatch(/^postfix-a +edge +n +\/etc\/postfix-a$/m);
    expect(out).toMatch(/^postfix-b +relay +n +\/etc\/postfix-b$/m);
  });

  it('shows an edit written in place, same size, mtime put back (only the ctime changes)', async () => {
    await sb.runOk("postconf -c /srv/pf-x -e 'multi_instance_group = aaa'");
    await sb.runOk('sleep 2.1');
    expect(await listings()).toMatch(/^pfx +aaa +n +\/srv\/pf-x$/m);
    await listings(); // from the cache
    await sb.runOk(String.raw`f=/srv/pf-x/main.cf; m=$(stat -c %y "$f")
      node -e 'const fs=require("fs");const f=process.argv[1];const s=fs.readFileSync(f,"latin1");const fd=fs.openSync(f,"r+");fs.writeSync(fd,s.replace("multi_instance_group = aaa","multi_instance_group = bbb"),0,"latin1");fs.closeSync(fd)' "$f"
      touch -d "$m" "$f"`);
    expect(await listings()).toMatch(/^pfx +bbb +n +\/srv\/pf-x$/m);
  });

  it('reports a main.cf that became broken instead of its cached settings', async () => {
    await listings();
    await sb.runOk("printf 'not a setting\\n' >> /srv/pf-y/main.cf");
    const r = await sb.run('postfleet list');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('/srv/pf-y/main.cf, line');
    expect(r.stdout).toMatch(/^\? +\? +broken +\/srv\/pf-y$/m);
    expect(r.stdout).not.toMatch(/^b +out/m);
    await sb.runOk("sed -i '/^not a setting$/d' /srv/pf-y/main.cf");
    expect(await listings()).toMatch(/^b +out +n +\/srv\/pf-y$/m);
  });

  it('with POSTFLEET_CACHE_DIR empty, neither reads nor writes it', async () => {
    await sb.runOk(`rm -f ${CACHE}`);
    await sb.runOk('postfleet list', { env: { POSTFLEET_CACHE_DIR: '' } });
    expect((await sb.run(`test -e ${CACHE}`)).exitCode).toBe(1);
  });
});
