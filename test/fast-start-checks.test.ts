/**
 * The native pre-start checks' parts that need neither root nor Postfix: find(1)'s visiting
 * order (compared with the real find), post-install's create-missing on a private tree,
 * check-fatal's configuration checks, check-warn on a tree owned by whoever runs the test,
 * and postfix-script's reading of multi_instance_directories.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkConfigurationFiles, checkWarn, createMissing, NotModelled, type StartFacts } from '../src/instances/start/checks.js';
import { walk } from '../src/instances/start/find.js';
import { scriptInstanceList } from '../src/instances/start/plan.js';

const me = os.userInfo();
const ids = { users: new Map([['postfix', me.uid], ['root', 0]]), groups: new Map([['postdrop', me.gid]]) };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pf-start-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function facts(params: Record<string, string>, extra: Partial<StartFacts> = {}): StartFacts {
  const all: Record<string, string> = {
    queue_directory: `${dir}/spool`,
    data_directory: `${dir}/lib`,
    command_directory: `${dir}/sbin`,
    daemon_directory: `${dir}/daemon`,
    meta_directory: `${dir}/etc`,
    shlib_directory: 'no',
    mail_owner: 'postfix',
    setgid_group: 'postdrop',
    maillog_file: '',
    ...params,
  };
  return { configDirectory: `${dir}/etc`, defaultConfigDirectory: `${dir}/etc`, shared: false, param: (n) => all[n] ?? '', ...extra };
}

const POSTFIX_FILES = [
  '# comment',
  '$config_directory:d:root:-:755:u',
  '$data_directory:d:$mail_owner:-:700:uc',
  '$queue_directory:d:root:-:755:uc',
  '$queue_directory/active:d:$mail_owner:-:700:ucr',
  '$queue_directory/maildrop:d:$mail_owner:$setgid_group:730:uc',
  '$queue_directory/pid:d:root:-:755:uc',
  '$daemon_directory/extra:d:root:-:755:uc',
  '$config_directory/main.cf:f:root:-:644:p',
].join('\n');

describe('find order', () => {
  it('visits what find(1) visits, in its order', () => {
    for (const p of ['b/x', 'a/y/z', 'c', 'a/k', 'b/w/v']) {
      mkdirSync(path.dirname(`${dir}/t/${p}`), { recursive: true });
      writeFileSync(`${dir}/t/${p}`, '');
    }
    symlinkSync('/etc', `${dir}/t/ln`);
    const start = `${dir}/t/.`;
    const found = execFileSync('find', [start], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect([...walk([start])].map((v) => v.path)).toEqual(found);
    expect([...walk([start], { prune: true })].map((v) => v.path)).toEqual([start]);
  });

  it('under -L, reports a dangling symbolic link by its own mode, as find -L does', () => {
    mkdirSync(`${dir}/t`);
    symlinkSync('gone', `${dir}/t/dangling`);
    const found = execFileSync('find', ['-L', `${dir}/t/.`, '(', '-perm', '-020', '-o', '-perm', '-002', ')'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(found).toEqual([`${dir}/t/./dangling`]);
    expect([...walk([`${dir}/t/.`], { follow: true })].filter((v) => (v.stats.mode & 0o022) !== 0).map((v) => v.path)).toEqual(found);
  });
});

describe('create-missing', () => {
  it('makes the missing c-flagged directories of this instance, with their modes, and nothing shared', () => {
    mkdirSync(`${dir}/spool`);
    mkdirSync(`${dir}/etc`);
    const made = createMissing(facts({}), POSTFIX_FILES, ids);
    expect(made).toEqual({ made: [`${dir}/lib`, `${dir}/spool/active`, `${dir}/spool/maildrop`, `${dir}/spool/pid`] });
    expect(statSync(`${dir}/spool/maildrop`).mode & 0o7777).toBe(0o730);
    expect(statSync(`${dir}/lib`).mode & 0o7777).toBe(0o700);
    expect(() => statSync(`${dir}/daemon/extra`)).toThrow();
    // Again: nothing left to make.
    expect(createMissing(facts({}), POSTFIX_FILES, ids)).toEqual({ made: [] });
  });

  it('makes the shared ones too for the primary, and says what mkdir would when it cannot', () => {
    mkdirSync(`${dir}/spool`);
    mkdirSync(`${dir}/etc`);
    const r = createMissing(facts({}, { shared: true }), POSTFIX_FILES, ids);
    expect(r.error).toBe(`mkdir: cannot create directory '${dir}/daemon/extra': No such file or directory`);
    expect(r.made).toContain(`${dir}/spool/pid`);
  });

  it('hands an owner it does not know to Postfix', () => {
    mkdirSync(`${dir}/spool`);
    expect(() => createMissing(facts({ mail_owner: 'nosuchuser' }), POSTFIX_FILES, ids)).toThrow(NotModelled);
  });
});

describe('check-fatal: configuration files', () => {
  beforeEach(() => mkdirSync(`${dir}/etc`));
  it('wants a master.cf', () => {
    expect(checkConfigurationFiles(facts({}))).toBe(`no ${dir}/etc/master.cf file found`);
  });
  it('wants a postlog service when maillog_file is set', () => {
    writeFileSync(`${dir}/etc/master.cf`, 'smtp inet n - y - - smtpd\n');
    expect(checkConfigurationFiles(facts({}))).toBeUndefined();
    expect(checkConfigurationFiles(facts({ maillog_file: '/var/log/x' }))).toBe("missing 'postlog' service in master.cf - run 'postfix upgrade-configuration'");
    writeFileSync(`${dir}/etc/master.cf`, 'postlog   unix-dgram n  -       n       -       1       postlogd\n');
    expect(checkConfigurationFiles(facts({ maillog_file: '/var/log/x' }))).toBeUndefined();
  });
});

describe('check-warn', () => {
  function tree(): void {
    for (const d of ['etc', 'lib', 'spool', 'spool/pid', 'spool/active', 'spool/public', 'spool/maildrop', 'spool/corrupt']) mkdirSync(`${dir}/${d}`);
    for (const d of ['etc', 'lib', 'spool', 'spool/pid', 'spool/active', 'spool/public', 'spool/corrupt']) chmodSync(`${dir}/${d}`, 0o755);
    chmodSync(`${dir}/spool/maildrop`, 0o730);
  }
  const rootWarnings = (f: StartFacts): string[] => checkWarn(f, ids).filter((w) => !w.startsWith('not owned by root:'));

  it('is quiet on a clean tree', () => {
    tree();
    expect(rootWarnings(facts({}))).toEqual([]);
  });

  it('warns as the script does, in its order', () => {
    tree();
    writeFileSync(`${dir}/etc/gw`, '');
    chmodSync(`${dir}/etc/gw`, 0o666);
    symlinkSync('/etc/passwd', `${dir}/etc/out`);
    writeFileSync(`${dir}/etc/main.cf`, '');
    symlinkSync('main.cf', `${dir}/etc/in`);
    writeFileSync(`${dir}/lib/w`, '');
    chmodSync(`${dir}/lib/w`, 0o646);
    writeFileSync(`${dir}/spool/corrupt/ABC`, '');
    expect(rootWarnings(facts({}))).toEqual([
      `group or other writable: ${dir}/etc/./gw`,
      `symlink leaves directory: ${dir}/etc/./out`,
      `group or other writable: ${dir}/lib/./w`,
      'damaged message: corrupt/ABC',
    ]);
  });

  it('names the mail_owner and setgid_group it checks against', () => {
    tree();
    const other = { users: new Map([['postfix', me.uid + 1]]), groups: new Map([['postdrop', me.gid + 1]]) };
    const w = checkWarn(facts({}), other).filter((x) => !x.startsWith('not owned by root:'));
    expect(w).toContain(`not owned by postfix: ${dir}/lib/.`);
    expect(w).toContain(`not owned by postfix: ${dir}/spool/active`);
    expect(w).toContain(`not owned by postfix: ${dir}/spool/maildrop`);
    expect(w).toContain(`not owned by group postdrop: ${dir}/spool/public`);
  });
});

describe("postfix-script's instance list", () => {
  it('splits on white space, with only the first comma taken for one', () => {
    expect(scriptInstanceList('/etc/postfix-a /etc/postfix-b')).toEqual(['/etc/postfix-a', '/etc/postfix-b']);
    expect(scriptInstanceList('/etc/a,/etc/b,/etc/c')).toEqual(['/etc/a', '/etc/b,/etc/c']);
    expect(scriptInstanceList(undefined)).toEqual([]);
  });
});
