/**
 * Iterator mode without masters, differential against the real postmulti on one shared fleet
 * (FLEET_FIXTURE): -l (byte for byte) and -j, postmulti's command-line errors, -x (environment,
 * order, exit status), and the modern list / exec commands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET, FLEET_FIXTURE, listRow, type FleetMember } from './helpers/fleet.js';
import { requireIntegration, Sandbox, type RunResult } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

describe.runIf(requireIntegration())('iterator mode: postfleet vs postmulti on one fleet', () => {
  let sb: Sandbox;
  let commandDirectory: string;
  let daemonDirectory: string;
  let snapshot: RunResult;
  const SNAPSHOT = 'cd / && ls -l --time-style=+%s.%N etc/postfix* srv/pf-* && md5sum etc/postfix*/main.cf srv/pf-*/main.cf';

  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk(FLEET_FIXTURE);
    // A main.cf for a non-default MAIL_CONFIG, so postmulti gets as far as checking it.
    await sb.runOk('mkdir -p /etc/other && cp /etc/postfix/main.cf /etc/other/main.cf && touch -d "-1 minute" /etc/other/main.cf');
    snapshot = await sb.runOk(SNAPSHOT);
    [commandDirectory = '', daemonDirectory = ''] = (await sb.runOk('postconf -h command_directory daemon_directory')).stdout.trim().split('\n');
  });
  afterAll(async () => {
    await sb?.dispose();
  });

  /** The same arguments to postmulti and to postfleet, concurrently. */
  async function both(args: readonly string[], opts: { tty?: boolean; env?: Record<string, string> } = {}): Promise<[RunResult, RunResult]> {
    return Promise.all([sb.exec(['postmulti', ...args], opts), sb.exec(['postfleet', ...args], opts)]);
  }

  const rows = (members: readonly FleetMember[]): string => members.map(listRow).join('');
  const byDir = (...dirs: string[]): FleetMember[] => dirs.map((d) => FLEET.find((m) => m.dir === d)!);

  describe('-l', () => {
    // Each selection with the rows it must produce, in order (a sanity check of the fixture:
    // the differential below would also pass if both printed nothing).
    const cases: Array<[string[], FleetMember[]]> = [
      [['-l'], [...FLEET]],
      [['-l', '-a'], [...FLEET]],
      [['-a', '-a', '-l'], [...FLEET]],
      [['-l', '-v'], [...FLEET]],
      [['-l', '-g', 'mta'], byDir('/etc/postfix-a', '/etc/postfix-b')],
      [['-lg', 'out'], byDir('/srv/pf-x', '/srv/pf-y')],
      [['-l', '-g', 'very-long-group-name'], byDir('/etc/postfix-verylongname-x')],
      [['-l', '-i', 'postfix-a'], byDir('/etc/postfix-a')],
      [['-l', '-i', 'a'], byDir('/etc/postfix-a')],
      [['-l', '-ib'], byDir('/etc/postfix-b', '/srv/pf-y')],
      [['-l', '-i', 'postfix-b'], byDir('/etc/postfix-b')],
      [['-l', '-i', 'pfx'], byDir('/srv/pf-x')],
      [['-l', '-i', 'postfix-verylongname-x'], byDir('/etc/postfix-verylongname-x')],
      [['-l', '-i', 'verylongname-x'], byDir('/etc/postfix-verylongname-x')],
      [['-l', '-i', '/srv/pf-x'], byDir('/srv/pf-x')],
      [['-l', '-i', '/etc/postfix-a'], byDir('/etc/postfix-a')],
      [['-l', '-i', '/etc/postfix-anon'], byDir('/etc/postfix-anon')],
      [['-l', '-i', '/etc/postfix'], byDir('/etc/postfix')],
      [['-l', '-i', '-'], byDir('/etc/postfix')],
      [['-l', '-R'], [...FLEET].reverse()],
      [['-lR', '-g', 'mta'], byDir('/etc/postfix-b', '/etc/postfix-a')],
      [['-R', '-R', '-l'], [...FLEET]],
      [['-l', '--'], [...FLEET]],
      // Nothing matched: postmulti 3.7 prints nothing and exits 0.
      [['-l', '-g', 'nomatch'], []],
      [['-l', '-i', 'nomatch'], []],
      [['-l', '-i', 'anon'], []],
      [['-l', '-i', 'postfix-pfx'], []],
      [['-l', '-i', '/srv'], []],
    ];

    it.each(cases)('postfleet %j is byte-identical to postmulti', async (args, expected) => {
      const [pm, pf] = await both(args);
      expect(pm).toEqual({ stdout: rows(expected), stderr: '', exitCode: 0 });
      expect(pf).toEqual(pm);
    });

    it('-j prints one JSON object per line with the -l row as name, group, enabled, config_directory', async () => {
      // postmulti 3.7 does not know -j: there is nothing to compare with but its -l rows.
      expect((await sb.exec(['postmulti', '-l', '-j'])).exitCode).toBe(1);
      const pairs: Array<[string[], string[]]> = [
        [['-l', '-j'], ['-l']],
        [['-j', '-l', '-g', 'mta'], ['-l', '-g', 'mta']],
        [['-lj', '-R'], ['-l', '-R']],
        [['-l', '-j', '-i', 'b'], ['-l', '-i', 'b']],
      ];
      for (const [args, postmultiArgs] of pairs) {
        const [pm, pf] = await Promise.all([sb.exec(['postmulti', ...postmultiArgs]), sb.exec(['postfleet', ...args])]);
        expect(pf.exitCode).toBe(0);
        expect(pf.stderr).toBe('');
        const lines = pf.stdout.split('\n');
        expect(lines.pop()).toBe('');
        const objects = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
        const expected = pm.stdout
          .trim()
          .split('\n')
          .map((row) => {
            const [name, group, enabled, dir] = row.split(/ +/);
            return { name, group, enabled, config_directory: dir };
          });
        expect(expected.length).toBeGreaterThan(0);
        expect(objects).toEqual(expected);
        for (const o of objects) expect(Object.keys(o)).toEqual(['name', 'group', 'enabled', 'config_directory']);
      }
      expect(await sb.exec(['postfleet', '-l', '-j', '-g', 'nomatch'])).toEqual({ stdout: '', stderr: '', exitCode: 0 });
      const j = await sb.exec(['postfleet', '-j', '-p', 'status']);
      expect(j).toEqual({ stdout: '', stderr: "postfleet: fatal: JSON output available only with '-l'\n", exitCode: 1 });
    });
  });

  describe('command-line errors (postmulti prints them only to a terminal)', () => {
    const cases: string[][] = [
      ['-z'],
      ['-l', '-z'],
      ['-l', '-g'],
      ['-li'],
      ['-a', '-g', 'x', '-l'],
      ['-i', 'a', '-i', 'b', '-l'],
      ['-l', '-p'],
      ['-l', '-x'],
      ['-a'],
      ['-p'],
      ['-x'],
      ['-l', 'x'],
      ['-p', '-R', 'start'],
      ['-e', 'create', '-R'],
      ['-x', '-I', 'foo', 'ls'],
      ['-l', '-G', 'g'],
      ['-e', 'enable', '-I', 'x'],
      ['-e', 'assign', '-i', 'a'],
      ['-e', 'enable', '-i', 'a', 'x=y'],
      ['-G', 'a', '-G', 'b', '-e', 'create'],
      ['-e', 'bogus'],
      ['-p', '-i', 'nomatch', 'status'],
      // Stop-like and control commands skip disabled instances: nothing left to run.
      ['-p', '-i', 'postfix-b', 'stop'],
      ['-g', 'out', '-p', 'reload'],
      ['-x', '-i', 'nomatch', 'true'],
      ['-x', '-g', 'nomatch', 'true'],
      // postmulti has no -c: before anything but a postfleet command, postfleet refuses it alike
      ['-c', '/etc/postfix', '-l'],
      ['-c', '/etc/postfix'],
      ['-c'],
      ['--config-dir', '/etc/postfix', '-p', 'status'],
      ['-c', '/etc/postfix', 'lst'],
    ];

    // postmulti sleeps a second before a fatal exit: these (read-only) run side by side,
    // five at a time (vitest's maxConcurrency), three runs each.
    it.concurrent.for(cases.map((args) => ({ args, line: args.join(' ') })))('postfleet $line: same message and exit status', { timeout: budget(5 * 3) }, async ({ args }, { expect }) => {
      const [pm, pf] = await both(args, { tty: true });
      expect(pm.exitCode).toBe(1);
      expect(pm.stdout).toMatch(/^postmulti: .*\n$/s);
      expect(pf.exitCode).toBe(pm.exitCode);
      expect(pf.stdout).toBe(pm.stdout.replaceAll('postmulti', 'postfleet'));
      // postfleet says it without a terminal too, on stderr.
      const plain = await sb.exec(['postfleet', ...args]);
      expect(plain).toEqual({ stdout: '', stderr: pf.stdout, exitCode: 1 });
    });

    it('MAIL_CONFIG other than the default is fatal; the default itself is fine', async () => {
      const [pm, pf] = await both(['-l'], { tty: true, env: { MAIL_CONFIG: '/etc/other' } });
      expect(pm).toEqual({ stdout: 'postmulti: fatal: Non-default configuration directory: MAIL_CONFIG=/etc/other\n', stderr: '', exitCode: 1 });
      expect(pf).toEqual({ ...pm, stdout: pm.stdout.replace('postmulti', 'postfleet') });

      const [pmDefault, pfDefault] = await both(['-l', '-i', '-'], { env: { MAIL_CONFIG: '/etc/postfix' } });
      expect(pmDefault).toEqual({ stdout: rows(byDir('/etc/postfix')), stderr: '', exitCode: 0 });
      expect(pfDefault).toEqual(pmDefault);
    });

    it('postfleet -P: a positive number, else fatal', async () => {
      expect(await sb.exec(['postfleet', '-P', '0', '-l'])).toEqual({
        stdout: '',
        stderr: "postfleet: fatal: Invalid '-P' parallelism '0': specify a positive number\n",
        exitCode: 1,
      });
      expect((await sb.exec(['postfleet', '-P', 'x', '-x', 'true'])).stderr).toContain("'-P' parallelism 'x'");
      expect(await sb.exec(['postfleet', '-P', '3', '-l', '-i', 'a'])).toEqual({ stdout: rows(byDir('/etc/postfix-a')), stderr: '', exitCode: 0 });
    });
  });

  describe('-x', () => {
    const SHOW_ENV =
      'echo "$MAIL_CONFIG|$config_directory|$queue_directory|$data_directory|$multi_instance_name|$multi_instance_group|' +
      '$multi_instance_enable|$command_directory|$daemon_directory|${PATH%%:*}|${MAIL_VERBOSE-unset}"';
    const envLine = (m: FleetMember, verbose = false): string =>
      [
        m.dir,
        m.dir,
        m.queue,
        m.queue.replace('/var/spool/', '/var/lib/'),
        m.name === '-' ? '' : m.name,
        m.group === '-' ? '' : m.group,
        m.enabled ? 'yes' : 'no',
        commandDirectory,
        daemonDirectory,
        commandDirectory,
        verbose ? '' : 'unset',
      ].join('|') + '\n';

    const cases: Array<[string[], FleetMember[], boolean]> = [
      [[], [...FLEET], false],
      [['-a'], [...FLEET], false],
      [['-R'], [...FLEET].reverse(), false],
      [['-g', 'mta'], byDir('/etc/postfix-a', '/etc/postfix-b'), false],
      [['-R', '-g', 'out'], byDir('/srv/pf-y', '/srv/pf-x'), false],
      [['-i', 'b'], byDir('/etc/postfix-b', '/srv/pf-y'), false],
      [['-i', '-'], byDir('/etc/postfix'), false],
      [['-v', '-i', '/etc/postfix-anon'], byDir('/etc/postfix-anon'), true],
    ];

    it.each(cases)('exports the same environment, in the same order: -x %j', async (selection, expected, verbose) => {
      const [pm, pf] = await both(['-x', ...selection, 'sh', '-c', SHOW_ENV]);
      expect(pm).toEqual({ stdout: expected.map((m) => envLine(m, verbose)).join(''), stderr: '', exitCode: 0 });
      expect(pf).toEqual(pm);
    });

    it('the whole environment matches, except postmulti’s own logging variables', async () => {
      // postmulti passes on what its maillog client set up for itself (POSTLOG_*, MAIL_LOGTAG).
      const own = /^(POSTLOG_SERVICE|POSTLOG_HOSTNAME|MAIL_LOGTAG|_)=/;
      const envOf = (r: RunResult): string[] =>
        r.stdout
          .split('\0')
          .filter((v) => v !== '' && !own.test(v))
          .sort();
      const [pm, pf] = await both(['-x', '-v', '-g', 'mta', 'sh', '-c', 'env -0; printf "\\0--\\0"']);
      expect(pm.exitCode).toBe(0);
      expect(envOf(pm)).toContain('multi_instance_name=postfix-b');
      expect(envOf(pf)).toEqual(envOf(pm));
    });

    it('exit status 1 when one instance’s command fails; the others still run', async () => {
      const script = 'echo "$multi_instance_name"; test "$multi_instance_name" != postfix-b';
      const [pm, pf] = await both(['-x', 'sh', '-c', script]);
      expect(pm).toEqual({ stdout: FLEET.map((m) => (m.name === '-' ? '\n' : `${m.name}\n`)).join(''), stderr: '', exitCode: 1 });
      expect(pf).toEqual(pm);

      const [pmOk, pfOk] = await both(['-x', '-g', 'out', 'sh', '-c', script]);
      expect(pmOk).toEqual({ stdout: 'pfx\nb\n', stderr: '', exitCode: 0 });
      expect(pfOk).toEqual(pmOk);

      for (const cmd of [['sh', '-c', 'exit 7'], ['sh', '-c', 'kill -9 $$'], ['false']]) {
        const [pmFail, pfFail] = await both(['-x', '-i', 'a', ...cmd]);
        expect(pmFail.exitCode).toBe(1);
        expect(pfFail).toEqual(pmFail);
      }
    });

    it('a command that cannot be run: same message (on a terminal) and exit status', async () => {
      const cases: Array<[string[], string]> = [
        [['-g', 'mta', 'no-such-command', 'arg'], 'execvp no-such-command: No such file or directory\n'.repeat(2)],
        [['-i', 'a', '/etc/postfix/main.cf'], 'execvp /etc/postfix/main.cf: Permission denied\n'],
        [['-i', 'a', '/etc/postfix'], 'execvp /etc/postfix: Permission denied\n'],
      ];
      await Promise.all(
        cases.map(async ([args, messages]) => {
          const [pm, pf] = await both(['-x', ...args], { tty: true });
          expect(pm).toEqual({ stdout: messages.replace(/^(?=.)/gm, 'postmulti: fatal: '), stderr: '', exitCode: 1 });
          expect(pf).toEqual({ ...pm, stdout: pm.stdout.replaceAll('postmulti', 'postfleet') });
        }),
      );
    });
  });

  describe('modern commands', () => {
    it('list: a table, --json an array of every instance', async () => {
      const table = await sb.exec(['postfleet', 'list']);
      expect(table.exitCode).toBe(0);
      expect(table.stderr).toBe('');
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^NAME +GROUP +ENABLED +CONFIG_DIRECTORY$/);
      expect(lines.slice(1).map((l) => l.split(/ +/))).toEqual(FLEET.map((m) => [m.name, m.group, m.enabled ? 'yes' : 'no', m.dir]));

      const json = await sb.exec(['postfleet', 'list', '--json', '-R']);
      expect(json.exitCode).toBe(0);
      const rows = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
      expect(rows).toEqual(
        [...FLEET].reverse().map((m) => ({
          name: m.name === '-' ? null : m.name,
          group: m.group === '-' ? null : m.group,
          enabled: m.enabled,
          configDirectory: m.dir,
          queueDirectory: m.queue,
          dataDirectory: m.queue.replace('/var/spool/', '/var/lib/'),
          primary: m.dir === '/etc/postfix',
        })),
      );
      const group = JSON.parse((await sb.exec(['postfleet', 'list', '--json', '--group', 'out'])).stdout) as Array<{ name: string }>;
      expect(group.map((r) => r.name)).toEqual(['pfx', 'b']);
      const one = JSON.parse((await sb.exec(['postfleet', 'list', '--json', '-i', 'verylongname-x'])).stdout) as Array<{ name: string }>;
      expect(one.map((r) => r.name)).toEqual(['postfix-verylongname-x']);
    });

    it('list: a selection that matches nothing is a one-line error naming it', async () => {
      expect(await sb.exec(['postfleet', 'list', '-g', 'nomatch'])).toEqual({
        stdout: '',
        stderr: "postfleet: no instance in group 'nomatch'\n",
        exitCode: 1,
      });
      const json = await sb.exec(['postfleet', 'list', '--json', '--instance', 'nomatch']);
      expect(json.exitCode).toBe(1);
      expect(json.stderr).toBe("postfleet: no instance matches 'nomatch'\n");
    });

    it('exec --json: one result per instance, in list order', async () => {
      const r = await sb.exec(['postfleet', 'exec', '--json', '--', 'sh', '-c', 'echo $multi_instance_name; test -n "$multi_instance_name"']);
      expect(r.exitCode).toBe(1); // the two nameless instances fail the test
      const results = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
      expect(results).toEqual(
        FLEET.map((m) => ({
          instance: m.name !== '-' ? m.name : m.dir === '/etc/postfix' ? '-' : m.dir, // the nameless primary is -
          configDirectory: m.dir,
          command: ['sh', '-c', 'echo $multi_instance_name; test -n "$multi_instance_name"'],
          exitCode: m.name === '-' ? 1 : 0,
          durationMs: expect.any(Number) as number,
          output: m.name === '-' ? '\n' : `${m.name}\n`,
        })),
      );
      for (const x of results) expect(x['durationMs']).toBeGreaterThanOrEqual(0);

      const ok = await sb.exec(['postfleet', 'exec', '--json', '-g', 'mta', '-R', '-P', '1', '--', 'sh', '-c', 'echo $queue_directory']);
      expect(ok.exitCode).toBe(0);
      expect((JSON.parse(ok.stdout) as Array<{ output: string }>).map((x) => x.output)).toEqual(['/var/spool/postfix-b\n', '/var/spool/postfix-a\n']);
    });

    it('exec: plain lines name each instance and its outcome; a missing command fails', async () => {
      const r = await sb.exec(['postfleet', 'exec', '-g', 'out', '--', 'sh', '-c', 'echo "hello from $multi_instance_name"; exit 3']);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toMatch(/^pfx: .*failed \(exit 3\).*\n {2}hello from pfx\nb: .*failed \(exit 3\).*\n {2}hello from b\n$/);
      const missing = await sb.exec(['postfleet', 'exec', '--json', '-i', 'a', '--', 'no-such-command']);
      expect(missing.exitCode).toBe(1);
      expect(JSON.parse(missing.stdout)).toMatchObject([{ instance: 'postfix-a', exitCode: 1, output: 'execvp no-such-command: No such file or directory\n' }]);
    });

    it('exec runs the command after -- word for word, also words that postfleet’s own options used before it', async () => {
      const command = ['sh', '-c', 'printf "%s|" "$0" "$@"', '-c', 'postfix-a', '/etc/postfix', '-i'];
      const r = await sb.exec(['postfleet', 'exec', '-c', '/etc/postfix', '-i', 'postfix-a', '--json', '--', ...command]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject([{ instance: 'postfix-a', command, exitCode: 0, output: '-c|postfix-a|/etc/postfix|-i|' }]);
    });

    it('-c DIR (--config-dir) before a command is that command’s option', async () => {
      const plain = await sb.exec(['postfleet', 'status', '--json']);
      expect(plain.exitCode, plain.stderr).toBe(0);
      for (const args of [
        ['-c', '/etc/postfix', 'status', '--json'],
        ['--config-dir', '/etc/postfix', 'status', '--json'],
        ['--config-dir=/etc/postfix', 'status', '--json'],
        ['status', '--json', '-c', '/etc/postfix'],
      ]) {
        expect(await sb.exec(['postfleet', ...args]), args.join(' ')).toEqual(plain);
      }
      // another primary (a copy of this one's main.cf, so the same secondaries)
      const other = JSON.parse((await sb.exec(['postfleet', '-c', '/etc/other', 'list', '--json'])).stdout) as Array<{ configDirectory: string; primary: boolean }>;
      expect(other.map((r) => [r.configDirectory, r.primary])).toEqual(FLEET.map((m) => [m.dir === '/etc/postfix' ? '/etc/other' : m.dir, m.dir === '/etc/postfix']));
      // and its own errors, one line naming the value
      expect(await sb.exec(['postfleet', '-c', '/etc/nosuch', 'list'])).toEqual({
        stdout: '',
        stderr: 'postfleet: cannot read /etc/nosuch/main.cf: No such file or directory\n',
        exitCode: 1,
      });
    });

    it('one label for each instance in every output: the nameless primary is -, as list shows it', async () => {
      // a nameless secondary is its config directory
      const labels = FLEET.map((m) => (m.name !== '-' ? m.name : m.dir === '/etc/postfix' ? '-' : m.dir));
      const table = await sb.exec(['postfleet', 'status']);
      expect(table.exitCode, table.stderr).toBe(0);
      expect(table.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/ +/)[0])).toEqual(labels);
      const json = JSON.parse((await sb.exec(['postfleet', 'status', '--json'])).stdout) as Array<{ instance: string }>;
      expect(json.map((r) => r.instance)).toEqual(labels);
      expect((await sb.exec(['postfleet', 'list'])).stdout.split('\n')[1]).toMatch(/^- +- +yes +\/etc\/postfix$/);
      expect((await sb.exec(['postfleet', 'exec', '-i', '-', '--', 'true'])).stdout).toMatch(/^-: true: ok, [\d.]+ s\n$/);
      expect((await sb.exec(['postfleet', 'exec', '-i', '/etc/postfix-anon', '--', 'true'])).stdout).toMatch(/^\/etc\/postfix-anon: true: ok, [\d.]+ s\n$/);
    });

    const badFlags: Array<[string[], RegExp]> = [
      [['list', '--bogus'], /--bogus/],
      [['list', '-g'], /--group/],
      [['list', '-a', '-g', 'mta'], /--group=mta/],
      // (-i with -g is a union now, issue 9: test/integration-config-get.test.ts)
      [['list', '-a', '-i', 'a'], /--instance=a/],
      [['list', '--enabled', '--disabled'], /--disabled/],
      [['status', '-P', '2'], /-P/],
      [['postfix', 'start', '-P', '0'], /--parallel.*0/],
      [['postfix', 'start', '--parallel', 'many'], /--parallel.*many/],
      [['exec', '-i'], /--instance/],
      [['postfix'], /required arg.*command/],
      [['exec', '--json'], /required arg.*command/],
      [['lst'], /unknown command: lst/],
      [['lst', '-g', 'mta'], /unknown command: lst/],
    ];
    it.each(badFlags)('bad flags %j: one-line error naming the value, non-zero exit', async (args, names) => {
      const r = await sb.exec(['postfleet', ...args]);
      expect(r.exitCode).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^postfleet: [^\n]+\n$/);
      expect(r.stderr).toMatch(names);
    });
  });

  it('none of this changed a main.cf or started a master', async () => {
    expect(await sb.run(SNAPSHOT)).toEqual(snapshot);
    expect((await sb.run('shopt -s nullglob; echo /var/spool/postfix*/pid/*.pid /var/spool/pf-*/pid/*.pid')).stdout).toBe('\n');
  });

  it('odd instance lists read as postmulti reads them', async () => {
    // Runs last: it rewrites the primary's instance list (and puts it back).
    await sb.runOk('cp -p /etc/postfix/main.cf /etc/postfix/main.cf.saved');
    try {
      const lists: Array<[string, string[]]> = [
        ['/etc/postfix-a /etc/postfix-a', ['/etc/postfix', '/etc/postfix-a', '/etc/postfix-a']], // one instance, twice
        ['/etc/postfix', ['/etc/postfix', '/etc/postfix']], // the primary again
        ['/etc/postfix-a/, ,/srv/pf-x,', ['/etc/postfix', '/etc/postfix-a/', '/srv/pf-x']],
      ];
      for (const [list, dirs] of lists) {
        await sb.runOk(`postconf -e 'multi_instance_directories = ${list}' && touch -d '-1 minute' /etc/postfix/main.cf`);
        const [pm, pf] = await both(['-l']);
        expect(pm.stdout.trimEnd().split('\n').map((l) => l.split(/ +/).at(-1))).toEqual(dirs);
        expect(pf).toEqual(pm);
        const [pmx, pfx] = await both(['-x', '-R', 'sh', '-c', 'echo "$config_directory $multi_instance_name"']);
        expect(pmx.exitCode).toBe(0);
        expect(pfx).toEqual(pmx);
      }
    } finally {
      await sb.runOk('mv /etc/postfix/main.cf.saved /etc/postfix/main.cf');
    }
  });
});
