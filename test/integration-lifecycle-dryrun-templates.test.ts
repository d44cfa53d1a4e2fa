/**
 * --dry-run on every modern life-cycle command: it prints what it would change and changes
 * nothing at all. And templates: the built-ins and an operator's, laid over the stock
 * prototype, each giving an instance that `postfix check` accepts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTFLEET_WRAPPER, treeSnapshot } from './helpers/lifecycle.js';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

describe.runIf(requireIntegration())('life-cycle: --dry-run changes nothing', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
  });
  afterAll(async () => {
    await sb?.dispose();
  });

  /** Runs a dry run: exit 0, its output, and the tree byte for byte as before. */
  async function dryRun(args: string): Promise<string> {
    const before = await treeSnapshot(sb);
    const r = await sb.run(`postfleet ${args}`);
    expect(r.exitCode, `${args}: ${r.stderr}`).toBe(0);
    expect(r.stderr, args).toBe('');
    expect(await treeSnapshot(sb), `${args} changed the tree`).toBe(before);
    return r.stdout;
  }

  it('prints the plan of every command and leaves the tree as it was', { timeout: budget(32) }, async () => {
    const init = await dryRun('init --dry-run');
    expect(init).toBe(
      `would init -:\n  edit /etc/postfix/main.cf: multi_instance_wrapper = ${POSTFLEET_WRAPPER}\n  edit /etc/postfix/main.cf: multi_instance_enable = yes\n`,
    );
    await sb.runOk('postfleet init && postfleet create postfix-a --group mta && postfleet create postfix-b && postfleet deport b');

    const create = await dryRun('create postfix-n --group g -n');
    const lines = create.split('\n');
    expect(lines[0]).toBe('would create postfix-n:');
    expect(lines).toEqual(
      expect.arrayContaining([
        '  mkdir /etc/postfix-n (mode 0755)',
        '  mkdir /var/spool/postfix-n (mode 0755)',
        '  mkdir /var/lib/postfix-n (mode 0700)',
        expect.stringMatching(/^ {2}write \/etc\/postfix-n\/main\.cf \(mode 0644, \d+ lines\)$/),
        expect.stringMatching(/^ {2}write \/etc\/postfix-n\/master\.cf \(mode 0644, \d+ lines\)$/),
        expect.stringMatching(/^ {2}set-permissions \/var\/spool\/postfix-n\/maildrop \(mode 0730, uid \d+, gid \d+\)$/),
        '  register /etc/postfix-n in /etc/postfix/main.cf (multi_instance_directories)',
      ]),
    );
    // master.cf is written after main.cf, the primary edited last
    expect(lines.findIndex((l) => l.includes('master.cf'))).toBeGreaterThan(lines.findIndex((l) => l.includes('postfix-n/main.cf')));
    expect(lines.filter(Boolean).at(-1)).toContain('in /etc/postfix/main.cf');

    expect(await dryRun('create postfix-n --before a --dry-run')).toContain('  register /etc/postfix-n in /etc/postfix/main.cf (multi_instance_directories, before /etc/postfix-a)\n');
    expect(await dryRun('create postfix-t --template null-client --set relayhost=[relay.example.com] -n')).toContain('  write /etc/postfix-t/main.cf');
    // --set and --template-dir take one value each, so the name may come after them
    expect(await dryRun('create --set relayhost=[relay.example.com] --template null-client postfix-t -n')).toContain('  write /etc/postfix-t/main.cf');
    const greedy = await sb.run('postfleet create postfix-t -s myhostname=a relayhost=b -n');
    expect(greedy.exitCode).not.toBe(0);
    // (create takes several names: the stray value is read as one, and refused as a name)
    expect(greedy.stderr).toBe("postfleet: New instance name must start with 'postfix-': 'relayhost=b'\n");

    // import: set-permissions (as postmulti-script runs it), then the list
    const imp = await dryRun('import postfix-b -n');
    expect(imp).toMatch(/^would import postfix-b:\n {2}set-permissions \/var\/lib\/postfix-b \(mode 0700, uid \d+\)\n/);
    expect(imp).toMatch(
      /\n {2}register \/etc\/postfix-b in \/etc\/postfix\/main\.cf \(multi_instance_directories; dropped from alternate_config_directories\)\n$/,
    );
    const renamed = await dryRun('import --config-directory /etc/postfix-b --name postfix-bb --group g -n');
    expect(renamed).toContain('  edit /etc/postfix-b/main.cf: multi_instance_group = g\n  edit /etc/postfix-b/main.cf: multi_instance_name = postfix-bb\n');

    expect(await dryRun('deport a -n')).toBe(
      'would deport postfix-a:\n' +
        '  unregister /etc/postfix-a from /etc/postfix/main.cf (multi_instance_directories; added to alternate_config_directories)\n',
    );

    // destroy: the instance leaves the list first, then its files go
    const destroy = (await dryRun('destroy a -n')).split('\n').filter(Boolean);
    expect(destroy[0]).toBe('would destroy postfix-a:');
    expect(destroy[1]).toBe('  unregister /etc/postfix-a from /etc/postfix/main.cf (multi_instance_directories)');
    expect(destroy.slice(2)).toEqual([
      ...['active', 'bounce', 'corrupt', 'defer', 'deferred', 'flush', 'hold', 'incoming', 'maildrop', 'pid', 'private', 'public', 'saved', 'trace'].map(
        (q) => `  rmdir /var/spool/postfix-a/${q}`,
      ),
      '  rmdir /var/lib/postfix-a',
      '  rmdir /var/spool/postfix-a',
      '  remove /etc/postfix-a/master.cf',
      '  remove /etc/postfix-a/main.cf',
      '  rmdir /etc/postfix-a',
    ]);

    expect(await dryRun('enable a -n')).toBe('would enable postfix-a:\n  edit /etc/postfix-a/main.cf: multi_instance_enable = yes\n');
    // a new instance is disabled by default: disable writes the setting, then has nothing to do
    expect(await dryRun('disable a -n')).toBe('would disable postfix-a:\n  edit /etc/postfix-a/main.cf: multi_instance_enable = no\n');
    await sb.runOk('postfleet disable a');
    expect(await dryRun('disable a -n')).toBe('disable postfix-a: nothing to change\n');
    expect(await dryRun('assign a --name postfix-z --group - -n')).toBe(
      'would assign postfix-z:\n  edit /etc/postfix-a/main.cf: multi_instance_group =\n  edit /etc/postfix-a/main.cf: multi_instance_name = postfix-z\n',
    );
    expect(await dryRun('init -n')).toBe('init -: nothing to change\n');

    // --json: the same plan as data
    const json = JSON.parse(await dryRun('destroy a --dry-run --json')) as { instances: Array<Record<string, unknown>>; diff: Array<{ path: string; unified: string }> };
    expect(json).toMatchObject({ changed: true, dryRun: true, warnings: [], failed: [] });
    expect(json.instances).toHaveLength(1);
    expect(json.instances[0]).toMatchObject({ action: 'destroy', instance: 'postfix-a', name: 'postfix-a', configDirectory: '/etc/postfix-a', changed: true });
    expect(json.instances[0]!['changes']).toEqual(destroy.slice(1).map((l) => l.trim()));
    // each main.cf as diff -u prints it; the one destroy removes against /dev/null
    const reference = await sb.run('diff -u --label /etc/postfix-a/main.cf --label /dev/null /etc/postfix-a/main.cf /dev/null');
    expect(json.diff.map((d) => d.path)).toEqual(['/etc/postfix-a/main.cf', '/etc/postfix/main.cf']);
    expect(json.diff[0]!.unified).toBe(reference.stdout);
    expect(json.diff[1]!.unified).toMatch(/^--- \/etc\/postfix\/main\.cf\n\+\+\+ \/etc\/postfix\/main\.cf\n@@ /);

    // and the real thing does what the dry run said
    const real = await sb.run('postfleet enable a');
    expect(real.stdout).toBe('enable postfix-a:\n  edit /etc/postfix-a/main.cf: multi_instance_enable = yes\n');
    await sb.runOk('cp -p /etc/postfix-a/main.cf /srv/main.cf.enabled');
    const realJson = JSON.parse((await sb.runOk('postfleet disable a --json')).stdout) as Record<string, unknown>;
    const unified = (await sb.run('diff -u --label /etc/postfix-a/main.cf --label /etc/postfix-a/main.cf /srv/main.cf.enabled /etc/postfix-a/main.cf')).stdout;
    expect(unified).toMatch(/^\+multi_instance_enable = no$/m);
    expect(realJson).toEqual({
      changed: true,
      dryRun: false,
      instances: [
        {
          instance: 'postfix-a',
          name: 'postfix-a',
          configDirectory: '/etc/postfix-a',
          action: 'disable',
          changed: true,
          changes: ['edit /etc/postfix-a/main.cf: multi_instance_enable = no'],
        },
      ],
      diff: [{ path: '/etc/postfix-a/main.cf', unified }],
      warnings: [],
      failed: [],
    });
    expect(await sb.readFile('/etc/postfix-a/main.cf')).toMatch(/^multi_instance_enable = no$/m);
  });
});

describe.runIf(requireIntegration())('life-cycle: templates', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk('postfleet init');
  });
  afterAll(async () => {
    await sb?.dispose();
  });

  it('lists the three built-ins', async () => {
    const r = await sb.runOk('postfleet templates --json');
    const templates = JSON.parse(r.stdout) as Array<{ name: string; description: string; variables: Record<string, string> }>;
    expect(templates.map((t) => t.name)).toEqual(['inbound-mx', 'null-client', 'outbound-relay']);
    expect(Object.keys(templates.find((t) => t.name === 'null-client')?.variables ?? {})).toEqual(['relayhost']);
    for (const t of templates) expect(t.description).not.toBe('');
    const text = await sb.runOk('postfleet templates');
    expect(text.stdout).toMatch(/^null-client {6}Null client: /m);
    expect(text.stdout).toContain('--set relayhost=');
  });

  it('creates from each built-in an instance that postfix check accepts', { timeout: budget(12) }, async () => {
    await sb.runOk(
      [
        'postfleet create postfix-nc --template null-client --set relayhost=[relay.example.com]',
        'postfleet create postfix-out --template outbound-relay --set listen_address=127.0.0.1 --set bind_address=127.0.0.1 --set smtp_helo_name=out.example.com',
        'postfleet create postfix-in --template inbound-mx --set listen_address=127.0.0.1 --set myhostname=mx.example.com --set relay_domains=example.com --set hub=[hub.example.com]',
      ].join(' && '),
    );
    await sb.backdate('/etc/postfix*/main.cf');
    const nc = await sb.runOk('postconf -c /etc/postfix-nc -h relayhost inet_interfaces mydestination local_transport master_service_disable multi_instance_enable');
    expect(nc.stdout).toBe('[relay.example.com]\nloopback-only\n\nerror:local delivery is disabled\ninet\nno\n');
    const out = await sb.runOk('postconf -c /etc/postfix-out -h inet_interfaces smtp_bind_address smtp_helo_name master_service_disable queue_directory');
    expect(out.stdout).toBe('127.0.0.1\n127.0.0.1\nout.example.com\n\n/var/spool/postfix-out\n');
    const inbound = await sb.runOk('postconf -c /etc/postfix-in -h relay_domains relay_transport myhostname');
    expect(inbound.stdout).toBe('example.com\nrelay:[hub.example.com]\nmx.example.com\n');
    // the template's comment came along; master.cf is the stock one
    expect(await sb.readFile('/etc/postfix-nc/main.cf')).toContain('relayhost = [relay.example.com]\n');
    expect(await sb.readFile('/etc/postfix-nc/master.cf')).toBe(await sb.readFile('/etc/postfix/master.cf.proto'));
    for (const name of ['postfix-nc', 'postfix-out', 'postfix-in']) {
      const check = await sb.run(`postfix -c /etc/${name} check`, { tty: true });
      expect(check.exitCode, `${name}: ${check.stdout}`).toBe(0);
      expect(check.stdout, name).not.toMatch(/warning|fatal/);
    }
  });

  it('uses an operator’s template directory, searched before the built-ins, with its own master.cf', { timeout: budget(12) }, async () => {
    const dir = '/etc/postfleet/templates';
    const master = (await sb.readFile('/etc/postfix/master.cf.proto')).replace(/^smtp {6}inet.*$/m, '2525      inet  n       -       y       -       -       smtpd\n  -o syslog_name={{tag}}/smtpd');
    expect(master).toContain('{{tag}}');
    await sb.writeFile(`${dir}/edge/template.ini`, 'description = Edge relay on port 2525\n[variables]\ntag = syslog tag of its smtpd\n');
    await sb.writeFile(`${dir}/edge/main.cf`, '# edge\nmaster_service_disable =\ninet_interfaces = loopback-only\nsmtpd_banner = $myhostname {{tag}}\n');
    await sb.writeFile(`${dir}/edge/master.cf`, master);
    // an operator's null-client hides the built-in one
    await sb.writeFile(`${dir}/null-client/main.cf`, 'relayhost = [site.example.com]\n');

    const listed = JSON.parse((await sb.runOk(`postfleet templates --template-dir ${dir} --json`)).stdout) as Array<{ name: string; directory: string }>;
    expect(listed.map((t) => [t.name, t.directory.startsWith(dir)])).toEqual([
      ['edge', true],
      ['null-client', true],
      ['inbound-mx', false],
      ['outbound-relay', false],
    ]);

    const r = await sb.run(`postfleet create postfix-edge --template-dir ${dir} --template edge --set tag=edge --set relayhost=[smart.example.com]`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await sb.readFile('/etc/postfix-edge/master.cf')).toBe(master.replace('{{tag}}', 'edge'));
    await sb.backdate('/etc/postfix*/main.cf');
    const conf = await sb.runOk('postconf -c /etc/postfix-edge -h smtpd_banner relayhost master_service_disable');
    expect(conf.stdout).toBe('$myhostname edge\n[smart.example.com]\n\n');
    const check = await sb.run('postfix -c /etc/postfix-edge check', { tty: true });
    expect(check.exitCode, check.stdout).toBe(0);

    await sb.runOk(`postfleet create postfix-site --template-dir ${dir} --template null-client`);
    await sb.backdate('/etc/postfix*/main.cf');
    expect((await sb.runOk('postconf -c /etc/postfix-site -h relayhost')).stdout).toBe('[site.example.com]\n');
  });
});
