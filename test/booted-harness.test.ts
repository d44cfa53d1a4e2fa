/**
 * The real-systemd harness itself (test/helpers/booted.ts): this machine's OS boots under
 * systemd-nspawn on an overlay of / whose writes stay in a tmpfs, is driven through nsenter,
 * powers off from inside and boots again on the same overlay.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BootedHost, requireBoot } from './helpers/booted.js';

describe.runIf(requireBoot())('a booted systemd (systemd-nspawn over a private overlay of /)', () => {
  let host: BootedHost;
  beforeAll(async () => {
    host = await BootedHost.create();
  });
  afterAll(async () => {
    await host?.dispose();
  });

  it('boots to running, is PID 1 of its own namespaces, and its root is the overlay', async () => {
    const state = await host.boot();
    expect(state).toBe('running');
    const r = await host.runOk('readlink /proc/1/exe; cat /proc/1/comm; findmnt -n -o FSTYPE /; findmnt -n -o FSTYPE /run; ip -o link | wc -l');
    const [exe, comm, rootFs, runFs, links] = r.stdout.trim().split('\n');
    expect(exe).toMatch(/systemd$/);
    expect(comm).toBe('systemd');
    expect(rootFs).toBe('overlay');
    expect(runFs).toBe('tmpfs');
    expect(Number(links)).toBe(1); // --private-network: only lo
  });

  it('keeps what it writes across a reboot, and none of it reaches the host', async () => {
    const marker = `/etc/postfleet-harness-${process.pid}`;
    await host.runOk(`echo kept > ${marker}; systemctl is-active multi-user.target`);
    expect(existsSync(marker)).toBe(false);
    const before = host.pid;
    expect(await host.reboot()).toBe('running');
    expect(host.pid).not.toBe(before);
    expect((await host.runOk(`cat ${marker}`)).stdout).toBe('kept\n');
    expect(existsSync(marker)).toBe(false);
  });
});

describe.runIf(requireBoot())('the booted systemd’s root', () => {
  it('is refused unless it is an overlay whose lower layer is / and whose writes go to a tmpfs', async () => {
    await expect(BootedHost.create({ lower: '/usr' })).rejects.toThrow(/^boot controller failed: postfleet boot setup failed: the overlay's lower layer is not \/ \(/);
  });
});
