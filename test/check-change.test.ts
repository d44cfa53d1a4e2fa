/**
 * errorsAddedBy(): the check's errors that a change adds, on a fleet read from a private
 * directory tree (no root, no Postfix): a new instance's errors are all new; a changed
 * instance's errors are new only when the fleet did not have them before.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorsAddedBy } from '../src/instances/check/change.js';
import type { ChangeReport, InstanceReport } from '../src/instances/lifecycle/report.js';
import { loadFleet } from '../src/instances/registry.js';

let root: string;
const SMTP = 'smtp inet n - y - - smtpd\n';

function defaults(): Map<string, string> {
  return new Map([
    ['config_directory', `${root}/etc/postfix`],
    ['queue_directory', `${root}/spool/postfix`],
    ['data_directory', `${root}/lib/postfix`],
    ['command_directory', root],
    ['daemon_directory', root],
    ['meta_directory', root],
    ['shlib_directory', 'no'],
    ['syslog_name', '${multi_instance_name?{$multi_instance_name}:{postfix}}'],
    ['multi_instance_name', ''],
    ['multi_instance_group', ''],
    ['multi_instance_enable', 'no'],
    ['multi_instance_directories', ''],
    ['postmulti_start_commands', 'start'],
    ['postmulti_stop_commands', 'stop'],
    ['postmulti_control_commands', 'reload'],
    ['myhostname', 'host.example'],
    ['inet_interfaces', 'all'],
    ['inet_protocols', 'all'],
    ['master_service_disable', ''],
    ['maillog_file', ''],
    ['mail_owner', 'postfix'],
    ['setgid_group', 'postdrop'],
  ]);
}

/** An instance NAME with its main.cf settings and master.cf (none for a planned one). */
function mainCf(name: string, extra: string): string {
  return `multi_instance_name = ${name}\nqueue_directory = ${root}/spool/${name}\ndata_directory = ${root}/lib/${name}\nmulti_instance_enable = yes\n${extra}`;
}
function instance(name: string, extra: string, master = SMTP): void {
  mkdirSync(`${root}/etc/${name}`, { recursive: true });
  writeFileSync(`${root}/etc/${name}/main.cf`, mainCf(name, extra));
  writeFileSync(`${root}/etc/${name}/master.cf`, master);
}
function primary(secondaries: string[]): void {
  mkdirSync(`${root}/etc/postfix`, { recursive: true });
  writeFileSync(`${root}/etc/postfix/main.cf`, `multi_instance_enable = yes\ninet_interfaces = loopback-only\nmulti_instance_directories = ${secondaries.map((s) => `${root}/etc/${s}`).join(' ')}\n`);
  writeFileSync(`${root}/etc/postfix/master.cf`, '');
}
function report(changes: Array<{ name: string; action: InstanceReport['action']; before: string; after: string }>): ChangeReport {
  return {
    changed: true,
    dryRun: false,
    instances: changes.map((c) => ({ instance: c.name, name: c.name, configDirectory: `${root}/etc/${c.name}`, action: c.action, changed: true, changes: ['x'] })),
    files: changes.map((c) => ({ path: `${root}/etc/${c.name}/main.cf`, before: c.before, after: c.after })),
    warnings: [],
    failed: [],
  };
}
const fleet = () => loadFleet({ configDirectory: `${root}/etc/postfix`, defaults: defaults() });
const summary = (ps: ReturnType<typeof errorsAddedBy>): string[] => ps.map((p) => `${p.check} ${[...p.instances].sort().join('+')}`).sort();

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pf-change-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('errors a change adds', () => {
  it('a new instance: every error naming it, none of the clashes already there', () => {
    instance('postfix-a', '');
    instance('postfix-b', ''); // a and b already clash on smtp
    instance('postfix-c', ''); // the new one, clashing with both
    primary(['postfix-a', 'postfix-b', 'postfix-c']);
    const added = errorsAddedBy(report([{ name: 'postfix-c', action: 'create', before: '', after: mainCf('postfix-c', '') }]), fleet());
    expect(summary(added)).toEqual(['listener-clash postfix-a+postfix-c', 'listener-clash postfix-b+postfix-c']);
  });

  it('a changed instance: an error it already had is not added; one it gains is', () => {
    instance('postfix-a', 'inet_interfaces = 192.0.2.1\n');
    instance('postfix-b', 'inet_interfaces = 192.0.2.1\n'); // clashes with a, before and after
    primary(['postfix-a', 'postfix-b']);
    const before = mainCf('postfix-b', 'inet_interfaces = 192.0.2.1\n');
    // A change that keeps the clash (another setting): nothing added.
    const same = mainCf('postfix-b', 'inet_interfaces = 192.0.2.1\nrelayhost = [r.example]\n');
    writeFileSync(`${root}/etc/postfix-b/main.cf`, same);
    expect(errorsAddedBy(report([{ name: 'postfix-b', action: 'update', before, after: same }]), fleet())).toEqual([]);
    // A change that makes a clash where there was none: added.
    instance('postfix-b', 'inet_interfaces = 192.0.2.2\n');
    const apart = mainCf('postfix-b', 'inet_interfaces = 192.0.2.2\n');
    const together = mainCf('postfix-b', 'inet_interfaces = 192.0.2.1\n');
    writeFileSync(`${root}/etc/postfix-b/main.cf`, together);
    expect(summary(errorsAddedBy(report([{ name: 'postfix-b', action: 'update', before: apart, after: together }]), fleet()))).toEqual([
      'listener-clash postfix-a+postfix-b',
    ]);
  });
});
