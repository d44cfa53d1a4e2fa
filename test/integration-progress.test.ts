/**
 * The live task list on a real terminal: a line per instance while the fleet fits on the
 * screen, one line of counts when it does not (a thousand-line list would scroll away, and
 * listr2 redraws all of it on every change). Either way the failures and messages are
 * there at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET_FIXTURE } from './helpers/fleet.js';
import { requireIntegration, Sandbox } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

// Seven instances; postfix-b and pf-y fail.
const LUCK = String.raw`cat > /usr/local/bin/luck <<'EOF'
#!/bin/sh
case $MAIL_CONFIG in */postfix-b|*/pf-y) echo "no luck in $MAIL_CONFIG"; exit 3;; esac
EOF
chmod 755 /usr/local/bin/luck`;
const COMMAND = 'postfleet exec -P 2 -- luck';

/** The last frame of what the terminal showed: escape sequences dropped, redrawn lines collapsed. */
function screen(raw: string): string {
  // eslint-disable-next-line no-control-regex -- terminal escape sequences start with ESC
  const frames = raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split('\n');
  return frames.map((l) => l.trimEnd()).join('\n');
}

describe.runIf(requireIntegration())('live task list on a terminal', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk(FLEET_FIXTURE);
    await sb.runOk(LUCK);
  });
  afterAll(async () => {
    await sb?.dispose();
  });

  it('shows a line per instance when the fleet fits on the screen', { timeout: budget(8) }, async () => {
    const r = await sb.run(`stty rows 40 cols 100; ${COMMAND}`, { tty: true });
    expect(r.exitCode).toBe(1);
    const out = screen(r.stdout);
    // the nameless primary is -, a nameless secondary its directory
    for (const label of ['-', 'postfix-a', '/etc/postfix-anon', 'postfix-verylongname-x', 'pfx']) {
      expect(out).toMatch(new RegExp(`\\n\\s*\\S+ ${label}: luck: ok, [\\d.]+ s\\n`));
    }
    expect(out).toMatch(/postfix-b: luck: failed \(exit 3\)/);
    expect(out).toContain('no luck in /srv/pf-y');
    expect(out).not.toMatch(/\d+\/7 done/);
  });

  it('shows one line of counts when it does not, then the failures and their messages', { timeout: budget(8) }, async () => {
    const r = await sb.run(`stty rows 6 cols 100; ${COMMAND}`, { tty: true });
    expect(r.exitCode).toBe(1);
    const out = screen(r.stdout);
    expect(out).toMatch(/luck: \d\/7 done.*; running: /);
    expect(out).toMatch(/luck: 7\/7 done, 2 failed\n/);
    // Afterwards: only the failed instances, in list order, with what they printed.
    const after = out.slice(out.lastIndexOf('7/7 done, 2 failed'));
    expect(after).toMatch(/\npostfix-b: luck: failed \(exit 3\), [\d.]+ s\n {2}no luck in \/etc\/postfix-b\nb: luck: failed \(exit 3\), [\d.]+ s\n {2}no luck in \/srv\/pf-y\n/);
    expect(after).not.toMatch(/: luck: ok/);
  });

  it('^C kills it as a signal kills any program (status 130, not listr2\u2019s 127), and the children with it', { timeout: budget(20) }, async () => {
    // The instances' `sleep 29.5` are each on a terminal of their own (pty capture); SIGINT goes to
    // postfleet only, once all of them run, as the terminal's ^C would.
    const r = await sb.run(
      String.raw`stty rows 40 cols 100
( until [ "$(pgrep -c -f '^sleep 29\.5$')" = 7 ]; do sleep 0.05; done; pkill -INT -f 'run\.js exec -P 7' ) &
postfleet exec -P 7 -- sleep 29.5
echo "status $?"
for i in $(seq 100); do pgrep -f '^sleep 29\.5$' >/dev/null || break; sleep 0.05; done
echo "left: $(pgrep -c -f '^sleep 29\.5$')"`,
      { tty: true },
    );
    const out = screen(r.stdout);
    expect(out).toMatch(/(^|\n)status 130\n/);
    expect(out).toMatch(/(^|\n)left: 0\n/);
  });
});
