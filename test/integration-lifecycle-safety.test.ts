/**
 * Bad input to the life-cycle actions: every refusal is one line on stderr naming the
 * offending value, a non-zero exit, and not one byte, mode, owner or mtime changed under
 * /etc, /var/spool or /var/lib. Where postmulti makes the same check, postfleet's compat
 * message is postmulti's (postfleet may add the value at the end). And destroy removes only
 * the files the SPEC names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal, treeSnapshot } from './helpers/lifecycle.js';
import { requireIntegration, Sandbox, shq } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

/** postmulti's (or postmulti-script's) fatal message, as postfleet's compat mode words it. */
function postmultiFatal(terminalOutput: string): string {
  const line = terminalOutput.split('\n').filter((l) => / fatal: /.test(l)).at(-1) ?? '';
  return line.replace(/^(postmulti|postfix\/postmulti-script): fatal: /, 'postfleet: fatal: ');
}

interface Case {
  /** what is refused, for the test output */
  what: string;
  /** postmulti-compatible arguments (run as `postfleet ARGS`; as `postmulti ARGS` when `postmulti` is set) */
  compat?: string;
  /** the modern command line (after `postfleet `) */
  modern?: string;
  /** what the message must name */
  value: string | RegExp;
  /** postmulti makes the same check: compare its message (postfleet's must start with it) */
  postmulti?: boolean;
}

describe.runIf(requireIntegration())('life-cycle: bad input is refused and changes nothing', () => {
  let ref: Sandbox; // postmulti, for its messages
  let ours: Sandbox;
  beforeAll(async () => {
    [ref, ours] = await Promise.all([Sandbox.create(), Sandbox.create()]);
  });
  afterAll(async () => {
    await Promise.all([ref?.dispose(), ours?.dispose()]);
  });

  /** Runs every case against `before`, the tree every refusal must leave as it was. */
  async function expectRefused(cases: readonly Case[]): Promise<void> {
    // postmulti sleeps a second before it exits on a fatal error: all of its runs at once,
    // in its own sandbox, while postfleet's run one by one
    const postmulti = Promise.all(cases.map((c) => (c.postmulti && c.compat ? ref.run(`postmulti ${c.compat}`, { tty: true }) : Promise.resolve(undefined))));
    const before = await treeSnapshot(ours);
    const messages: Array<{ c: Case; compat?: string; modern?: string }> = [];
    for (const c of cases) {
      const got: { c: Case; compat?: string; modern?: string } = { c };
      if (c.compat) {
        const r = await ours.run(`postfleet ${c.compat}`);
        got.compat = expectRefusal(r, c.value);
        expect(r.exitCode, c.what).toBe(1);
        expect(got.compat, `${c.what}: compat message`).toMatch(/^postfleet: fatal: /);
        expect(await treeSnapshot(ours), `${c.what}: tree unchanged after postfleet ${c.compat}`).toBe(before);
      }
      if (c.modern) {
        const r = await ours.run(`postfleet ${c.modern}`);
        got.modern = expectRefusal(r, c.value);
        expect(got.modern, `${c.what}: modern message`).toMatch(/^postfleet: (?!fatal)/);
        expect(await treeSnapshot(ours), `${c.what}: tree unchanged after postfleet ${c.modern}`).toBe(before);
      }
      messages.push(got);
    }
    const theirs = await postmulti;
    for (const [k, { c, compat, modern }] of messages.entries()) {
      const r = theirs[k];
      if (r === undefined) continue;
      expect(r.exitCode, `${c.what}: postmulti refuses too: ${r.stdout}`).toBe(1);
      const message = postmultiFatal(r.stdout);
      expect(message, `${c.what}: postmulti's message`).not.toBe('');
      expect(compat?.startsWith(message), `${c.what}: "${compat}" starts with postmulti's "${message}"`).toBe(true);
      const core = message.replace(/^postfleet: fatal: /, 'postfleet: ');
      if (modern !== undefined) expect(modern.startsWith(core), `${c.what}: "${modern}" starts with postmulti's "${core}"`).toBe(true);
    }
  }

  it('refuses create and import before init', { timeout: budget(10) }, async () => {
    const [a] = await Promise.all([ref.run('postmulti -I postfix-a -e create', { tty: true })]);
    expect(a.exitCode).toBe(1);
    expect(a.stdout).toContain("postfix/postmulti-script: fatal: multi_instance_wrapper is empty, run 'postmulti -e init' first.");
    // an instance to import: a copy of the primary's files
    await ours.runOk(
      'mkdir /etc/postfix-imp && cp -p /etc/postfix/main.cf /etc/postfix/master.cf /etc/postfix-imp/ && postconf -c /etc/postfix-imp -e queue_directory=/var/spool/postfix-imp data_directory=/var/lib/postfix-imp',
    );
    const before = await treeSnapshot(ours);
    for (const cmd of ['postfleet -I postfix-a -e create', 'postfleet create postfix-a', 'postfleet -I postfix-imp -e import', 'postfleet import postfix-imp', 'postfleet -i - -e disable']) {
      const r = await ours.run(cmd);
      const message = expectRefusal(r, 'multi_instance_wrapper');
      expect(message, cmd).toMatch(/multi_instance_wrapper is empty, run 'postfleet init' first\.$/);
    }
    // init done halfway by hand: the other half is named
    await ours.runOk(`postconf -e ${shq('multi_instance_wrapper = /bin/true')}`);
    const half = await treeSnapshot(ours);
    expect(half).not.toBe(before);
    expectRefusal(await ours.run('postfleet create postfix-a'), 'multi_instance_enable!=yes');
    expect(await treeSnapshot(ours)).toBe(half);
  });

  // 29 cases, most of them both in compat and modern form
  it('refuses bad names, groups, paths, duplicates and parameters', { timeout: budget(64) }, async () => {
    await Promise.all([
      ref.runOk('postmulti -e init && postmulti -I postfix-a -G mta -e create && postmulti -I postfix-b -e create'),
      ours.runOk('postfleet init && postfleet create postfix-a --group mta && postfleet -I postfix-b -e create'),
    ]);
    await Promise.all([ref.backdate('/etc/postfix*/main.cf'), ours.backdate('/etc/postfix*/main.cf')]);
    await expectRefused([
      { what: 'unprefixed name', compat: '-I foo -e create', modern: 'create foo', value: "'foo'", postmulti: true },
      { what: 'name with ../', compat: '-I postfix-../x -e create', modern: 'create postfix-../x', value: "'postfix-../x'", postmulti: true },
      { what: 'name with /', compat: '-I postfix-a/b -e create', modern: 'create postfix-a/b', value: "'postfix-a/b'", postmulti: true },
      { what: 'name with a space', compat: "-I 'postfix-a b' -e create", modern: "create 'postfix-a b'", value: "'postfix-a b'", postmulti: true },
      { what: 'name with a shell metacharacter', compat: "-I 'postfix-$(id)' -e create", modern: "create 'postfix-$(id)'", value: "'postfix-$(id)'", postmulti: true },
      { what: 'group with ;', compat: "-I postfix-z -G 'm;ta' -e create", modern: "create postfix-z --group 'm;ta'", value: "'-G m;ta'", postmulti: true },
      { what: 'relative path', compat: '-I postfix-z -e create config_directory=etc/x', modern: 'create postfix-z --config-directory etc/x', value: "'config_directory'", postmulti: true },
      { what: 'root path', compat: '-I postfix-z -e create queue_directory=//', modern: 'create postfix-z --queue-directory /', value: "'queue_directory' is the root directory", postmulti: true },
      // postmulti lets '..' through ("No checks here for "/." or other shoot-foot silliness")
      { what: '.. in a path', compat: '-I postfix-z -e create data_directory=/var/lib/../x', modern: 'create postfix-z --data-directory /var/lib/../x', value: "'/var/lib/../x'" },
      { what: 'white space in a path', modern: "create postfix-z --queue-directory '/var/spool/a b'", value: "'/var/spool/a b'" },
      { what: 'duplicate name (same directory)', compat: '-I postfix-a -e create', modern: 'create postfix-a', value: 'config_directory=/etc/postfix-a', postmulti: true },
      { what: 'duplicate name', compat: '-I postfix-a -e create config_directory=/etc/postfix-a2', modern: 'create postfix-a --config-directory /etc/postfix-a2', value: 'multi_instance_name=postfix-a', postmulti: true },
      { what: 'config_directory of the primary', compat: '-I postfix-z -e create config_directory=/etc/postfix', modern: 'create postfix-z --config-directory /etc/postfix', value: 'config_directory=/etc/postfix', postmulti: true },
      { what: 'queue_directory of another instance', compat: '-I postfix-z -e create queue_directory=/var/spool/postfix-a', modern: 'create postfix-z --queue-directory /var/spool/postfix-a', value: 'queue_directory=/var/spool/postfix-a', postmulti: true },
      { what: 'data_directory of the primary', compat: '-I postfix-z -e create data_directory=/var/lib/postfix/', modern: 'create postfix-z --data-directory /var/lib/postfix', value: 'data_directory=/var/lib/postfix', postmulti: true },
      { what: 'a shared directory as a private one', compat: '-I postfix-z -e create queue_directory=/usr/sbin', modern: 'create postfix-z --queue-directory /usr/sbin', value: '=/usr/sbin', postmulti: true },
      { what: 'assign a name in use', compat: '-i a -e assign -I postfix-b', modern: 'assign a --name postfix-b', value: 'multi_instance_name=postfix-b', postmulti: true },
      { what: 'assign an unsafe name', compat: "-i a -e assign -I 'postfix-a;b'", modern: "assign a --name 'postfix-a;b'", value: "'postfix-a;b'", postmulti: true },
      { what: 'assign to no instance', compat: '-i nosuch -e assign -G x', modern: 'assign nosuch --group x', value: 'nosuch', postmulti: true },
      { what: 'a parameter create does not take', compat: '-I postfix-z -e create foo=bar', value: "'foo'", postmulti: true },
      { what: 'a parameter import does not take', compat: '-I postfix-z -e import queue_directory=/var/spool/x', value: "'queue_directory'", postmulti: true },
      { what: 'a malformed parameter', compat: '-I postfix-z -e create junk', value: "'junk'", postmulti: true },
      { what: 'import of a directory without main.cf', compat: '-e import config_directory=/etc/postfix-nofiles', modern: 'import --config-directory /etc/postfix-nofiles', value: "'/etc/postfix-nofiles' lacks a main.cf file" },
      { what: 'destroy the primary', compat: '-i - -e destroy', modern: 'destroy -', value: '/etc/postfix', postmulti: true },
      { what: 'deport the primary', compat: '-i - -e deport', modern: 'deport -', value: '/etc/postfix', postmulti: true },
      { what: 'destroy of no instance', compat: '-i nosuch -e destroy', modern: 'destroy nosuch', value: 'nosuch', postmulti: true },
      { what: 'no instance at that path', compat: '-i /etc/nosuch -e enable', modern: 'enable /etc/nosuch', value: '/etc/nosuch', postmulti: true },
      { what: 'unknown option', modern: 'create postfix-z --bogus', value: '--bogus' },
      { what: 'unknown option of destroy', modern: 'destroy a --force', value: '--force' },
    ]);

    // postmulti's getopt error is two lines (getopt's and the usage); postfleet's are the same
    const [theirs, mine] = await Promise.all([ref.run('postmulti -Z -e create', { tty: true }), ours.run('postfleet -Z -e create')]);
    expect(mine.exitCode).toBe(1);
    expect(mine.stderr.replace(/\n$/, '')).toBe(theirs.stdout.replace(/postmulti/g, 'postfleet').replace(/\n$/, ''));
  });

  it('refuses to remove an enabled, a running, or (destroy) a non-empty instance', { timeout: budget(24) }, async () => {
    // enabled
    await Promise.all([ref.runOk('postmulti -i a -e enable'), ours.runOk('postfleet -i a -e enable')]);
    await Promise.all([ref.backdate('/etc/postfix*/main.cf'), ours.backdate('/etc/postfix*/main.cf')]);
    await expectRefused([
      { what: 'destroy enabled', compat: '-i a -e destroy', modern: 'destroy a', value: 'postfix-a', postmulti: true },
      { what: 'deport enabled', compat: '-i postfix-a -e deport', modern: 'deport /etc/postfix-a', value: 'postfix-a', postmulti: true },
    ]);

    // disabled, but running (started by hand)
    await Promise.all([ref.runOk('postmulti -i a -e disable'), ours.runOk('postfleet disable a')]);
    await Promise.all([ref.backdate('/etc/postfix*/main.cf'), ours.backdate('/etc/postfix*/main.cf')]);
    const starts = await Promise.all([ref.run('postfix -c /etc/postfix-a start', { tty: true }), ours.run('postfix -c /etc/postfix-a start', { tty: true })]);
    for (const s of starts) expect(s.exitCode, s.stdout).toBe(0);
    await expectRefused([
      { what: 'destroy running', compat: '-i a -e destroy', modern: 'destroy a', value: "'/etc/postfix-a'", postmulti: true },
      { what: 'deport running', compat: '-i a -e deport', modern: 'deport a', value: "'/etc/postfix-a'", postmulti: true },
    ]);
    await ours.runOk('postfix -c /etc/postfix-a stop', { tty: true });

    // stopped, disabled, with a message in its queue: postmulti would destroy it and leave
    // the queue file behind; postfleet refuses
    await ours.runOk('umask 077; echo message > /var/spool/postfix-a/hold/ABC123; chown postfix /var/spool/postfix-a/hold/ABC123');
    await expectRefused([{ what: 'destroy with a queued message', compat: '-i a -e destroy', modern: 'destroy a', value: "'/etc/postfix-a'" }]);
    expect(await ours.exists('/var/spool/postfix-a/hold/ABC123')).toBe(true);
  });

  it('refuses bad templates and --set values', { timeout: budget(12) }, async () => {
    await ours.runOk('mkdir -p /etc/postfleet-tpl/evil && printf "queue_directory = /var/spool/postfix\\n" > /etc/postfleet-tpl/evil/main.cf');
    await expectRefused([
      { what: 'unknown template', modern: 'create postfix-z --template nosuch', value: "'nosuch'" },
      { what: 'template name with a path', modern: 'create postfix-z --template ../null-client', value: "'../null-client'" },
      { what: 'missing template variable', modern: 'create postfix-z --template null-client', value: 'relayhost' },
      { what: 'malformed --set', modern: 'create postfix-z --set foo', value: "'foo'" },
      { what: 'malformed --set name', modern: "create postfix-z --set 'a b=c'", value: "'a b=c'" },
      { what: '--set of a private directory', modern: 'create postfix-z --set queue_directory=/var/spool/postfix', value: 'queue_directory' },
      { what: '--set enabling the new instance', modern: 'create postfix-z --set multi_instance_enable=yes', value: 'multi_instance_enable' },
      { what: 'a template setting a private directory', modern: 'create postfix-z --template-dir /etc/postfleet-tpl --template evil', value: 'queue_directory' },
      { what: 'a missing template directory', modern: 'create postfix-z --template-dir /etc/nosuch-tpl --template x', value: '/etc/nosuch-tpl' },
      { what: 'templates from a missing directory', modern: 'templates --template-dir /etc/nosuch-tpl', value: '/etc/nosuch-tpl' },
    ]);
  });
});

describe.runIf(requireIntegration())('life-cycle: destroy removes only what the SPEC names', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
  });
  afterAll(async () => {
    await sb?.dispose();
  });

  /** Paths, types, modes, owners and file checksums (no times) of the trees. */
  async function contents(): Promise<Map<string, string>> {
    const r = await sb.runOk(String.raw`
find /etc /var/spool /var/lib -xdev -printf '%p\t%y %M %u:%g\n' | LC_ALL=C sort
find /etc /var/spool /var/lib -xdev -type f -print0 | xargs -0 -r md5sum | sed 's/^\([0-9a-f]*\)  \(.*\)$/\2\tmd5 \1/' | LC_ALL=C sort`);
    const m = new Map<string, string>();
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const [p = '', v = ''] = line.split('\t');
      m.set(p, m.has(p) ? `${m.get(p)} ${v}` : v);
    }
    return m;
  }

  it('leaves extra files and directories in place, warns naming them, removes the rest', { timeout: budget(8) }, async () => {
    await sb.runOk('postfleet init && postfleet create postfix-d && postfleet create postfix-keep');
    // what the operator added: a file in the config dir, a file and a non-Postfix
    // directory in the queue dir, a file in the data dir
    await sb.runOk(String.raw`set -e
echo keep > /etc/postfix-d/extra.cf
echo notes > /var/spool/postfix-d/notes.txt
mkdir /var/spool/postfix-d/custom && echo x > /var/spool/postfix-d/custom/file
echo cache > /var/lib/postfix-d/verify_cache.lmdb
ln -s /etc/postfix/main.cf /var/spool/postfix-d/trace/link-to-primary-main.cf`);
    const before = await contents();
    const r = await sb.run('postfleet -i postfix-d -e destroy');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const warnings = r.stderr.split('\n').filter(Boolean);
    expect(warnings).toEqual([
      'postfleet: warning: /var/spool/postfix-d/trace: please verify contents and remove by hand (it holds link-to-primary-main.cf)',
      'postfleet: warning: /var/lib/postfix-d: please verify contents and remove by hand (it holds verify_cache.lmdb)',
      'postfleet: warning: /var/spool/postfix-d: please verify contents and remove by hand (it holds custom, notes.txt, trace)',
      'postfleet: warning: /etc/postfix-d: please verify contents and remove by hand (it holds extra.cf)',
    ]);
    const after = await contents();

    // exactly the Postfix-made queue subdirectories (but trace, not empty), main.cf and master.cf are gone
    const removed = [...before.keys()].filter((p) => !after.has(p)).sort();
    const queueSubdirs = ['active', 'bounce', 'corrupt', 'defer', 'deferred', 'flush', 'hold', 'incoming', 'maildrop', 'pid', 'private', 'public', 'saved'];
    expect(removed).toEqual([...queueSubdirs.map((q) => `/var/spool/postfix-d/${q}`), '/etc/postfix-d/main.cf', '/etc/postfix-d/master.cf'].sort());
    expect([...after.keys()].filter((p) => !before.has(p))).toEqual([]);
    // nothing else changed, but the primary's main.cf (the instance is no longer listed)
    const changed = [...after.keys()].filter((p) => after.get(p) !== before.get(p));
    expect(changed).toEqual(['/etc/postfix/main.cf']);
    expect((await sb.runOk('postconf -h multi_instance_directories')).stdout).toBe('/etc/postfix-keep\n');
    expect(await sb.readFile('/var/spool/postfix-d/custom/file')).toBe('x\n');

    // once the operator has cleared the leftovers, nothing of the instance is left to destroy
    const again = await sb.run('postfleet destroy postfix-d');
    expectRefusal(again, 'postfix-d');
  });

  it('destroys an instance that has run: its sockets and pid files are left with a warning, the rest removed', { timeout: budget(10) }, async () => {
    await sb.runOk('postfleet enable keep');
    await sb.backdate('/etc/postfix*/main.cf');
    await sb.runOk('postfix -c /etc/postfix-keep start && postfix -c /etc/postfix-keep stop', { tty: true });
    await sb.runOk('postfleet disable keep');
    const r = await sb.run('postfleet destroy keep');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('rmdir /var/spool/postfix-keep/active');
    // what master left (sockets, fifos, pid and lock files) is named, not removed
    expect(r.stderr).toMatch(/^postfleet: warning: \/var\/spool\/postfix-keep\/pid: please verify contents and remove by hand \(it holds master\.pid\)$/m);
    expect(r.stderr).toMatch(/^postfleet: warning: \/var\/spool\/postfix-keep\/public: please verify contents and remove by hand \(it holds .*pickup.*\)$/m);
    expect(await sb.exists('/var/spool/postfix-keep/active')).toBe(false);
    expect(await sb.exists('/etc/postfix-keep/main.cf')).toBe(false);
    expect(await sb.exists('/etc/postfix-keep')).toBe(false);
    expect(await sb.exists('/var/spool/postfix-keep/pid/master.pid')).toBe(true);
    expect((await sb.runOk('postconf -h multi_instance_directories')).stdout).toBe('\n');
  });
});
