/**
 * The fast start, differential against Postfix: `postfleet postfix start` does postfix-script's
 * pre-start checks (check-fatal, check-warn) natively and starts the master through Postfix's
 * quick-start path, so on any instance it must do what `postfix start` does: the same exit
 * status, the same terminal messages in the same order, the same tree under the queue, data
 * and config directories, the same master running or not, the same lines in maillog_file.
 *
 * Each case seeds one problem into an instance and runs one start of it by each runner:
 *
 *   postfix      `postfix -c DIR start` on a terminal: the reference
 *   fast         `postfleet postfix start -i NAME --json` (the instance's output and exitCode)
 *   compat       `postfleet -F -i NAME -p start` on a terminal (-F: the fast start in compat mode)
 *   full-check   `postfleet postfix start --full-check -i NAME --json` (Postfix's own checks)
 *
 * Every runner gets a sandbox of its own, built and seeded by the same script, so the four
 * starts begin from identical states (checked: the trees before the start must be equal) and
 * nothing one start leaves behind (a master, a repaired queue, a log line) can reach another.
 * Instance names and paths are thus the same everywhere; what cannot be the same is masked
 * explicitly: PIDs and timestamps, and queue IDs made from inode numbers (see `@@mask`).
 *
 * Each case also asserts what Postfix itself did (its `reference`), so that a seed that stops
 * producing its problem (another Postfix version, a changed fixture) fails loudly instead of
 * turning the case into a comparison of two clean starts; and postfix-script's runs are
 * recorded, so that a fast start that quietly fell back to Postfix's checks is caught.
 */
import { describe, expect, it } from 'vitest';
import { masterStates, stableOutput } from './helpers/fleet.js';
import { requireIntegration, Sandbox, shjoin, shq } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

// ---------------------------------------------------------------------------------------------
// Instances, runners, outcomes
// ---------------------------------------------------------------------------------------------

interface Target {
  /** How postfleet selects it (-i) and names it in its JSON. */
  readonly select: string;
  readonly config: string;
  readonly queue: string;
  readonly data: string;
  /** Its maillog_file, when the case gives it one (the primary's is the sandbox's). */
  readonly log: string;
}

const SECONDARY: Target = {
  select: 'postfix-x',
  config: '/etc/postfix-x',
  queue: '/var/spool/postfix-x',
  data: '/var/lib/postfix-x',
  log: '/var/log/postfix-x.log',
};

/** The sandbox's primary (PRISTINE_MAIN_CF logs to /var/log/postfix.log). */
const PRIMARY: Target = {
  select: '-',
  config: '/etc/postfix',
  queue: '/var/spool/postfix',
  data: '/var/lib/postfix',
  log: '/var/log/postfix.log',
};

type RunnerName = 'postfix' | 'fast' | 'compat' | 'full-check';
const RUNNERS: readonly RunnerName[] = ['postfix', 'fast', 'compat', 'full-check'];
const POSTFLEET_RUNNERS = ['fast', 'compat', 'full-check'] as const;

/** What one start did, in terms that must be equal between Postfix and postfleet. */
interface Outcome {
  readonly exitCode: number;
  /** What a terminal showed for the instance, PIDs and inode-made names masked. */
  readonly output: string;
  /** `find` listing (path, owner, group, mode, type) of the config, queue and data directories. */
  readonly before: string;
  readonly after: string;
  readonly master: 'running' | 'stopped';
  /** The start's own lines in the instance's maillog_file, without timestamp, host and PID. */
  readonly maillog: string[];
}

/** What a postfleet run said about itself, besides the instance's outcome. */
interface Envelope {
  /** postfleet's own exit status. */
  readonly processExit: number;
  /** postfleet's stderr (--json runs; on a terminal it is part of the output). */
  readonly stderr: string;
  /** The --json result object of the instance. */
  readonly json?: Record<string, unknown>;
  /** The arguments of each postfix-script run during the start (RECORD_SCRIPT_CALLS). */
  readonly scriptCalls: string[];
}

interface RunnerResult {
  readonly outcome: Outcome;
  readonly envelope: Envelope;
}

interface Case {
  readonly title: string;
  readonly target: Target;
  /** Give the secondary a maillog_file (target.log): the start's messages are compared there too. */
  readonly maillog?: boolean;
  /**
   * Bash run after the instance is made, with C, Q, D, L = config, queue, data directory and
   * log file. A line `@@mask FROM TO` on its stdout replaces the word FROM by TO everywhere
   * (names Postfix derives from inode numbers differ from one sandbox to the next).
   */
  readonly seed: string;
  /** Whether the fast start does the checks itself (false: it hands the start to Postfix, as with a running master). */
  readonly nativePath: boolean;
  /** What Postfix did: proves the seed produced its problem. */
  readonly reference: (ref: Outcome) => void;
}

const MAKE_SECONDARY = String.raw`
set -e
postmulti -e init
touch -d '-1 minute' /etc/postfix/main.cf
postmulti -I postfix-x -e create
postmulti -i postfix-x -e enable
touch -d '-1 minute' /etc/postfix*/main.cf
`;

/**
 * postfix-script, wrapped (in the sandbox's private /usr) to record how it is run: Postfix's
 * own start runs `postfix-script start`, which runs `postfix-script check-fatal` and
 * `check-warn`; a fast start must leave only `start` (through quick-start). This is what
 * shows that postfleet took its own path (a fall-back to `postfix start` would pass every
 * comparison), for the terminal runs too, without trusting postfleet's word for it.
 */
const SCRIPT_CALLS = '/var/log/postfix-script.calls';
const RECORD_SCRIPT_CALLS = String.raw`
set -e
s=$(postconf -dh daemon_directory)/postfix-script
mv "$s" "$s.orig"
printf '#!/bin/sh
echo "$*" >> ${SCRIPT_CALLS}
exec /bin/sh %s.orig "$@"
' "$s" > "$s"
chmod 755 "$s"
`;

/** Messages of the checks themselves (the master and its daemons log asynchronously). */
const START_PROGRAMS = new Set(['postfix-script', 'postsuper', 'postfix', 'postconf', 'postlog', 'post-install']);

function treeScript(t: Target): string {
  // A missing directory is part of the state too (a seed may remove the data directory).
  return `for d in ${shjoin([t.config, t.queue, t.data])}; do
  if [ -e "$d" ]; then find "$d" -printf '%p %u %g %m %y\\n'; else echo "$d MISSING"; fi
done | LC_ALL=C sort`;
}

function applyMasks(text: string, masks: ReadonlyArray<readonly [string, string]>): string {
  let out = text;
  for (const [from, to] of masks) out = out.replace(new RegExp(`(?<![0-9A-Za-z])${from}(?![0-9A-Za-z])`, 'g'), to);
  return out;
}

/** `Dec 03 06:33:15 host postfix-x/postfix-script[1324]: fatal: …` → `postfix-x/postfix-script: fatal: …` */
function maillogLines(text: string, masks: ReadonlyArray<readonly [string, string]>): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^.*? (\S+?)\[\d+\]: (.*)$/.exec(line);
    if (!m) continue;
    const program = m[1]!.split('/').pop()!;
    if (START_PROGRAMS.has(program)) out.push(applyMasks(`${m[1]}: ${m[2]}`, masks));
  }
  return out;
}

function startCommand(runner: RunnerName, t: Target): { script: string; tty: boolean } {
  switch (runner) {
    case 'postfix':
      return { script: shjoin(['postfix', '-c', t.config, 'start']), tty: true };
    case 'fast':
      return { script: shjoin(['postfleet', 'postfix', 'start', '-i', t.select, '--json']), tty: false };
    case 'compat':
      return { script: shjoin(['postfleet', '-F', '-i', t.select, '-p', 'start']), tty: true };
    case 'full-check':
      return { script: shjoin(['postfleet', 'postfix', 'start', '--full-check', '-i', t.select, '--json']), tty: false };
  }
}

/** Builds a sandbox for the case, seeds it, starts the instance with one runner, records. */
async function runCase(c: Case, runner: RunnerName): Promise<RunnerResult> {
  const t = c.target;
  const sb = await Sandbox.create({ overlay: ['/usr'] });
  try {
    const setup = [
      RECORD_SCRIPT_CALLS,
      c.target === PRIMARY ? "set -e\npostmulti -e init\ntouch -d '-1 minute' /etc/postfix/main.cf" : MAKE_SECONDARY,
      c.maillog ? `postconf -c ${shq(t.config)} -e ${shq(`maillog_file = ${t.log}`)}\ntouch -d '-1 minute' ${shq(t.config)}/main.cf` : '',
    ].join('\n');
    await sb.runOk(setup);
    const seeded = await sb.runOk(`set -e\n${c.seed}`, { env: { C: t.config, Q: t.queue, D: t.data, L: t.log } });
    const masks = [...seeded.stdout.matchAll(/^@@mask (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const);
    const before = applyMasks((await sb.runOk(treeScript(t))).stdout, masks);
    await sb.runOk(`rm -f ${SCRIPT_CALLS}`);

    const { script, tty } = startCommand(runner, t);
    const r = await sb.run(script, { tty });

    let exitCode = r.exitCode;
    let output = r.stdout;
    let json: Record<string, unknown> | undefined;
    if (!tty) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(r.stdout);
      } catch {
        throw new Error(`${runner}: no JSON from \`${script}\` (exit ${r.exitCode}):\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
      }
      expect(Array.isArray(parsed) && parsed.length === 1, `${runner}: one result object, got ${r.stdout}`).toBe(true);
      json = (parsed as Array<Record<string, unknown>>)[0]!;
      exitCode = json['exitCode'] as number;
      output = json['output'] as string;
    }
    const after = applyMasks((await sb.runOk(treeScript(t))).stdout, masks);
    const master = (await masterStates(sb, [t.queue]))[t.queue] ?? 'stopped';
    const log = (await sb.run(`cat -- ${shq(t.log)} 2>/dev/null; true`)).stdout;
    const calls = (await sb.run(`cat ${SCRIPT_CALLS} 2>/dev/null; true`)).stdout;
    return {
      outcome: {
        exitCode,
        output: applyMasks(stableOutput(output), masks),
        before,
        after,
        master,
        maillog: c.maillog || t === PRIMARY ? maillogLines(log, masks) : [],
      },
      envelope: { processExit: r.exitCode, stderr: tty ? '' : r.stderr, json, scriptCalls: calls.split('\n').filter(Boolean) },
    };
  } finally {
    await sb.dispose();
  }
}

/** The four runners side by side (each in its own sandbox); fails only after all are done. */
async function runAll(c: Case): Promise<Record<RunnerName, RunnerResult>> {
  const settled = await Promise.allSettled(RUNNERS.map((r) => runCase(c, r)));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return Object.fromEntries(RUNNERS.map((r, i) => [r, (settled[i] as PromiseFulfilledResult<RunnerResult>).value])) as Record<
    RunnerName,
    RunnerResult
  >;
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

const X = 'postfix-x/postfix-script';
const STARTING = `${X}: starting the Postfix mail system\n`;
const INTEGRITY_FAILED = `${X}: fatal: Postfix integrity check failed!\n`;

/** A file in queue directory $1 named as a short queue ID that matches its inode; prints the ID. */
const QUEUE_FILE_FN = String.raw`
qfile() {
  local tmp="$1/.seed-$$"
  echo x > "$tmp"
  local id
  id=$(printf '12345%X' "$(stat -c %i "$tmp")")
  mv "$tmp" "$1/$id"
  chown postfix "$1/$id"
  chmod 600 "$1/$id"
  echo "$id"
}
`;

const CASES: readonly Case[] = [
  {
    title: 'a clean secondary (control)',
    target: SECONDARY,
    seed: ':',
    nativePath: true,
    reference: (ref) => {
      expect(ref).toMatchObject({ exitCode: 0, output: STARTING, master: 'running' });
    },
  },
  {
    title: 'missing queue subdirectories and data directory: re-created by create-missing',
    target: SECONDARY,
    seed: 'rm -rf "$Q/flush" "$Q/defer" "$Q/public" "$Q/maildrop" "$Q/pid" "$D"',
    nativePath: true,
    reference: (ref) => {
      expect(ref).toMatchObject({ exitCode: 0, output: STARTING, master: 'running' });
      expect(ref.before).toContain('/var/lib/postfix-x MISSING');
      expect(ref.before).not.toMatch(/^\/var\/spool\/postfix-x\/public /m);
      // post-install's owners and modes, setgid group included.
      for (const line of [
        '/var/lib/postfix-x postfix root 700 d',
        '/var/spool/postfix-x/defer postfix root 700 d',
        '/var/spool/postfix-x/flush postfix root 700 d',
        '/var/spool/postfix-x/maildrop postfix postdrop 730 d',
        '/var/spool/postfix-x/pid root root 755 d',
        '/var/spool/postfix-x/public postfix postdrop 710 d',
      ]) {
        expect(ref.after.split('\n')).toContain(line);
      }
    },
  },
  {
    title: 'files and directories owned by the wrong user: check-warn "not owned by"',
    target: SECONDARY,
    maillog: true,
    seed: String.raw`${QUEUE_FILE_FN}
id=$(qfile "$Q/hold"); chown root:root "$Q/hold/$id"; echo "@@mask $id HOLDID"
echo x > "$Q/saved/junk"; chown nobody:nogroup "$Q/saved/junk"
mkdir "$Q/trace/sub"; chown daemon "$Q/trace/sub"
chown postfix "$Q/pid"
touch "$D/stray"
touch "$C/foreign"; chown nobody "$C/foreign"
`,
    nativePath: true,
    reference: (ref) => {
      const warnings = [
        'not owned by root: /var/spool/postfix-x/pid',
        'not owned by root: /etc/postfix-x/./foreign',
        'not owned by postfix: /var/lib/postfix-x/./stray',
        'not owned by postfix: /var/spool/postfix-x/hold/HOLDID',
        'not owned by postfix: /var/spool/postfix-x/saved/junk',
        'not owned by postfix: /var/spool/postfix-x/trace/sub',
      ].map((w) => `${X}: warning: ${w}\n`);
      expect(ref).toMatchObject({ exitCode: 0, output: warnings.join('') + STARTING, master: 'running' });
      expect(ref.maillog).toEqual((warnings.join('') + STARTING).trimEnd().split('\n'));
    },
  },
  {
    title: 'wrong modes and groups: maildrop 0777, public not postdrop, writable dirs, symlinks leaving the config directory',
    target: SECONDARY,
    maillog: true,
    seed: String.raw`
chown daemon "$Q"
chmod g+w "$Q/pid"
chmod 0777 "$Q/maildrop"; chown root "$Q/maildrop"
chgrp root "$Q/public"
chmod o+w "$D"
touch "$C/gw"; chmod g+w "$C/gw"
# Only /etc/postfix/./makedefs.out is exempt from "symlink leaves directory".
ln -s /usr/share/postfix/makedefs.out "$C/makedefs.out"
# find -L: a link to a group-writable file is reported as group writable itself.
touch /var/lib/gw-target; chmod g+w /var/lib/gw-target; ln -s /var/lib/gw-target "$C/gwlink"
ln -s main.cf "$C/inside"
`,
    nativePath: true,
    reference: (ref) => {
      expect(ref).toMatchObject({ exitCode: 0, master: 'running' });
      const lines = ref.output.trimEnd().split('\n');
      expect(lines.at(-1)).toBe(STARTING.trimEnd());
      // Sets: the order within a directory is the file system's (compared exactly below).
      expect(lines.slice(0, -1).sort()).toEqual(
        [
          'not owned by root: /var/spool/postfix-x/.',
          'group or other writable: /var/spool/postfix-x/pid',
          'group or other writable: /etc/postfix-x/./gw',
          'group or other writable: /etc/postfix-x/./gwlink',
          'symlink leaves directory: /etc/postfix-x/./makedefs.out',
          'symlink leaves directory: /etc/postfix-x/./gwlink',
          'group or other writable: /var/lib/postfix-x/.',
          'not owned by postfix: /var/spool/postfix-x/maildrop',
          'not owned by group postdrop: /var/spool/postfix-x/public',
        ]
          .map((w) => `${X}: warning: ${w}`)
          .sort(),
      );
      // check-warn does not look at maildrop's mode, and nothing repairs it.
      expect(ref.after.split('\n')).toContain('/var/spool/postfix-x/maildrop root postdrop 777 d');
      expect(ref.maillog).toEqual(lines);
    },
  },
  {
    title: 'a queue subdirectory that is a symlink (find does not follow it, postsuper does)',
    target: SECONDARY,
    seed: String.raw`
mv "$Q/flush" /var/spool/flush-elsewhere
ln -s /var/spool/flush-elsewhere "$Q/flush"
`,
    nativePath: true,
    reference: (ref) => {
      expect(ref).toMatchObject({
        exitCode: 0,
        output: `${X}: warning: not owned by postfix: /var/spool/postfix-x/flush\n${STARTING}`,
        master: 'running',
      });
    },
  },
  {
    title: 'chroot copies that differ or are not root-owned, a damaged message, and a syslog_name of its own',
    target: SECONDARY,
    maillog: true,
    seed: String.raw`
postconf -c "$C" -e 'syslog_name = ${'$'}{multi_instance_name}-out'; touch -d '-1 minute' "$C/main.cf"
mkdir "$Q/etc" "$Q/lib"
echo 'not the same' > "$Q/etc/passwd"
cp /etc/group "$Q/etc/group"
touch "$Q/lib/foreign"; chown nobody "$Q/lib/foreign"
echo x > "$Q/corrupt/ABCDEF"; chown postfix "$Q/corrupt/ABCDEF"
`,
    nativePath: true,
    reference: (ref) => {
      const output = [
        'warning: /var/spool/postfix-x/etc/passwd and /etc/passwd differ',
        'warning: not owned by root: /var/spool/postfix-x/lib/foreign',
        'warning: damaged message: corrupt/ABCDEF',
        'starting the Postfix mail system',
      ].map((m) => `postfix-x-out/postfix-script: ${m}\n`);
      expect(ref).toMatchObject({ exitCode: 0, output: output.join(''), master: 'running', maillog: output.join('').trimEnd().split('\n') });
    },
  },
  {
    title: 'a queue subdirectory replaced by a file: create-missing fails',
    target: SECONDARY,
    seed: 'rmdir "$Q/flush"; echo x > "$Q/flush"',
    nativePath: true,
    reference: (ref) => {
      expect(ref).toMatchObject({ exitCode: 1, master: 'stopped' });
      expect(ref.output).toMatch(new RegExp(`${X}: fatal: unable to create missing queue directories\n${INTEGRITY_FAILED}$`));
    },
  },
  {
    title: 'the master fails to start (data directory owned by another user), after the checks pass',
    target: SECONDARY,
    seed: 'chown nobody "$D"',
    nativePath: true,
    reference: (ref) => {
      expect(ref).toMatchObject({
        exitCode: 1,
        output: `${X}: warning: not owned by postfix: /var/lib/postfix-x/.\n${STARTING}${X}: fatal: mail system startup failed\n`,
        master: 'stopped',
      });
      // A quick-start marker left behind would make the next plain start skip the checks.
      expect(ref.after).not.toContain('quick-start');
    },
  },
  {
    title: 'no master.cf: check-fatal fails',
    target: SECONDARY,
    seed: 'rm "$C/master.cf"',
    // On purpose, the fast start hands this one to Postfix: the start fails either way, and
    // what Postfix prints first is one warning per postconf run by post-install.
    nativePath: false,
    reference: (ref) => {
      expect(ref).toMatchObject({ exitCode: 1, master: 'stopped' });
      expect(ref.output).toMatch(new RegExp(`${X}: fatal: no /etc/postfix-x/master.cf file found\n${INTEGRITY_FAILED}$`));
      // Before that, each postconf that post-install create-missing runs complains.
      const rest = ref.output.split('\n').slice(0, -3);
      expect(rest.length).toBeGreaterThan(0);
      for (const line of rest) expect(line).toBe('/usr/sbin/postconf: warning: open /etc/postfix-x/master.cf: No such file or directory');
    },
  },
  {
    title: "maillog_file set but no postlog service in master.cf: check-fatal fails",
    target: SECONDARY,
    maillog: true,
    seed: String.raw`sed -i '/^postlog[[:space:]]/d' "$C/master.cf"; test -z "$(postconf -c "$C" -M postlog/unix-dgram 2>/dev/null)"`,
    nativePath: true,
    reference: (ref) => {
      const output = `${X}: fatal: missing 'postlog' service in master.cf - run 'postfix upgrade-configuration'\n${INTEGRITY_FAILED}`;
      expect(ref).toMatchObject({ exitCode: 1, output, master: 'stopped', maillog: output.trimEnd().split('\n') });
    },
  },
  {
    title: 'mis-named and misplaced queue files: repaired by postsuper',
    target: SECONDARY,
    seed: String.raw`${QUEUE_FILE_FN}
# A name that does not match the file's inode: renamed after it (first 5 characters kept).
id=$(qfile "$Q/hold"); ino=$(stat -c %i "$Q/hold/$id")
wrong=$(printf '12345%X' $((ino + 0x100000))); mv "$Q/hold/$id" "$Q/hold/$wrong"
echo "@@mask $id RENAMEDID"; echo "@@mask $wrong WRONGID"
# In the wrong hash subdirectory of deferred (a short ID starting with 1 belongs in deferred/1).
mkdir -m 700 "$Q/deferred/F"; chown postfix "$Q/deferred/F"
id=$(qfile "$Q/deferred/F"); echo "@@mask $id DEFERREDID"
# A subdirectory of the unhashed hold queue: its file moves up, the directory goes.
mkdir -m 700 "$Q/hold/A"; chown postfix "$Q/hold/A"
id=$(qfile "$Q/hold/A"); echo "@@mask $id SUBDIRID"
# Not a queue ID: left, with a warning.
echo x > "$Q/hold/bogus-name"; chown postfix "$Q/hold/bogus-name"
# Neither file nor directory in a queue: removed; a directory in maildrop: removed.
mkfifo "$Q/hold/fifo"; chown postfix "$Q/hold/fifo"
mkdir "$Q/maildrop/alien"; chown postfix "$Q/maildrop/alien"
`,
    nativePath: true,
    reference: (ref) => {
      expect(ref).toMatchObject({ exitCode: 0, master: 'running' });
      expect(ref.output).toContain('postsuper: warning: bogus file name: hold/bogus-name\n');
      expect(ref.output).toContain('QUEUE FILE NAMES WERE CHANGED TO MATCH INODE NUMBERS');
      expect(ref.output.endsWith(STARTING)).toBe(true);
      const before = ref.before.split('\n');
      const after = ref.after.split('\n');
      expect(before).toContain('/var/spool/postfix-x/hold/WRONGID postfix root 600 f');
      expect(after).toContain('/var/spool/postfix-x/hold/RENAMEDID postfix root 600 f');
      expect(after).toContain('/var/spool/postfix-x/deferred/1/DEFERREDID postfix root 600 f');
      expect(after).toContain('/var/spool/postfix-x/hold/SUBDIRID postfix root 600 f');
      expect(ref.after).not.toMatch(/WRONGID|hold\/fifo|hold\/A|maildrop\/alien/);
      expect(after).toContain('/var/spool/postfix-x/hold/bogus-name postfix root 644 f');
    },
  },
  {
    title: 'postsuper must log a warning but cannot write maillog_file (it runs as postfix): check-fatal fails',
    target: SECONDARY,
    maillog: true,
    seed: String.raw`echo x > "$Q/hold/bogus-name"; chown postfix "$Q/hold/bogus-name"`,
    nativePath: true,
    reference: (ref) => {
      expect(ref).toMatchObject({
        exitCode: 1,
        master: 'stopped',
        output:
          'postsuper: warning: bogus file name: hold/bogus-name\n' +
          "postsuper: fatal: open logfile '/var/log/postfix-x.log': cannot create file exclusively: Permission denied\n" +
          INTEGRITY_FAILED,
        maillog: [INTEGRITY_FAILED.trimEnd()],
      });
    },
  },
  {
    title: 'an instance already running: refused',
    target: SECONDARY,
    seed: 'postfix -c "$C" start >/dev/null 2>&1',
    // A running master: postfleet leaves the refusal to Postfix, in its words.
    nativePath: false,
    reference: (ref) => {
      expect(ref).toMatchObject({ exitCode: 1, output: `${X}: fatal: the Postfix mail system is already running\n`, master: 'running' });
    },
  },
  {
    title: 'the primary, clean (shared files checked too)',
    target: PRIMARY,
    seed: ':',
    nativePath: true,
    reference: (ref) => {
      expect(ref).toMatchObject({
        exitCode: 0,
        output: 'postfix/postfix-script: starting the Postfix mail system\n',
        master: 'running',
        maillog: ['postfix/postfix-script: starting the Postfix mail system'],
      });
    },
  },
  {
    title: 'the primary with problems in its config (= meta) directory and a missing queue directory',
    target: PRIMARY,
    seed: String.raw`
touch /etc/postfix/gw; chmod g+w /etc/postfix/gw
touch /etc/postfix/foreign; chown nobody /etc/postfix/foreign
ln -s /usr/share/postfix/main.cf.dist /etc/postfix/leaving
rm -rf "$Q/flush"
`,
    nativePath: true,
    reference: (ref) => {
      // /etc/postfix is both meta_directory and config_directory: reported once (sort -u).
      const output = [
        'not owned by root: /etc/postfix/./foreign',
        'group or other writable: /etc/postfix/./gw',
        'symlink leaves directory: /etc/postfix/./leaving',
      ]
        .map((w) => `postfix/postfix-script: warning: ${w}\n`)
        .join('');
      expect(ref).toMatchObject({ exitCode: 0, output: `${output}postfix/postfix-script: starting the Postfix mail system\n`, master: 'running' });
      expect(ref.after.split('\n')).toContain('/var/spool/postfix/flush postfix root 700 d');
    },
  },
];

// ---------------------------------------------------------------------------------------------
// The differential
// ---------------------------------------------------------------------------------------------

describe.runIf(requireIntegration())('fast start: postfleet vs postfix start', () => {
  for (const c of CASES) {
    // Four sandboxes side by side, each: setup, seed, start (a full start of the primary takes
    // seconds), and the probes.
    it(c.title, { timeout: budget(4 * 6) }, async () => {
      const results = await runAll(c);
      const ref = results.postfix.outcome;
      c.reference(ref);
      // The same seed made the same state everywhere.
      for (const r of RUNNERS) expect(results[r].outcome.before, `${r}: state before the start`).toBe(ref.before);

      // Soft: one run shows every runner's difference, not just the first.
      for (const r of POSTFLEET_RUNNERS) {
        expect.soft(results[r].outcome, `${r} vs postfix start`).toEqual(ref);
        // postfleet's own exit status follows the instance's (postmulti's 0 or 1).
        expect.soft(results[r].envelope.processExit, `${r}: postfleet's exit status`).toBe(ref.exitCode === 0 ? 0 : 1);
      }
      for (const r of ['fast', 'full-check'] as const) {
        const { json, stderr } = results[r].envelope;
        expect.soft(stderr, `${r}: postfleet's stderr`).toBe('');
        expect.soft(json, `${r}: result object`).toMatchObject({ instance: c.target.select, configDirectory: c.target.config });
      }

      // Which way each started: Postfix's checks ran for the reference and --full-check, and
      // not for the fast starts (none at all when the native check-fatal failed: no postfix run).
      const refCalls = results.postfix.envelope.scriptCalls;
      expect(refCalls[0], 'postfix-script calls are recorded').toBe('start');
      if (c.nativePath) expect(refCalls).toContain('check-fatal');
      expect.soft(results['full-check'].envelope.scriptCalls, '--full-check: postfix-script runs').toEqual(refCalls);
      for (const r of ['fast', 'compat'] as const) {
        const calls = results[r].envelope.scriptCalls;
        if (c.nativePath) {
          expect.soft(calls.filter((a) => a !== 'start'), `${r}: Postfix's checks must not run`).toEqual([]);
          if (ref.exitCode === 0) expect.soft(calls, `${r}: postfix-script runs`).toEqual(['start']);
        } else {
          expect.soft(calls, `${r}: postfix-script runs`).toEqual(refCalls);
        }
      }
    });
  }
});
