/**
 * Fleets and probes for the tests under a booted systemd (./booted.ts): a Postfix fleet run
 * the Debian way (postmulti, Debian's postfix@ units), the package installed from this
 * checkout, and what the tests look at: where each master runs, which units failed, what the
 * journal says about the units' jobs.
 */
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { IO_INSIDE, type BootedHost } from './booted.js';
import type { BuiltDeb } from './deb.js';

/**
 * The host: postmulti's instances postfix-a and postfix-b enabled, postfix-c
 * disabled, behind an initialised primary; started by Debian's units.
 */
export const DEBIAN_FLEET = String.raw`
set -e
postmulti -e init
for i in a b c; do postmulti -I postfix-$i -e create; done
postmulti -i postfix-a -e enable
postmulti -i postfix-b -e enable
touch -d '-1 minute' /etc/postfix*/main.cf
systemctl daemon-reload
systemctl start postfix || true
# Debian's own unit of the disabled postfix-c fails at every start (postmulti -p stop of a
# disabled instance exits 1): that is the host as it is before postfleet.
systemctl reset-failed
`;

/** Copies the .deb where the booted host sees it; returns its path inside. */
export function debInside(host: BootedHost, deb: BuiltDeb): string {
  const name = path.basename(deb.file);
  copyFileSync(deb.file, path.join(host.io, name));
  return `${IO_INSIDE}/${name}`;
}

export interface MasterSeen {
  readonly pid: number;
  /** The unit holding it ('' when none). */
  readonly unit: string;
}

/**
 * Each instance's running master, by config directory, read inside without postfleet: the
 * pid file of every directory postconf lists, the process's name, its systemd cgroup's unit.
 */
export async function masters(host: BootedHost): Promise<Record<string, MasterSeen>> {
  const r = await host.runOk(String.raw`
for d in $(postconf -h config_directory) $(postconf -h multi_instance_directories | tr ',' ' '); do
  q=$(postconf -c "$d" -h queue_directory 2>/dev/null) || continue
  pid=$(tr -d ' ' < "$q/pid/master.pid" 2>/dev/null) || continue
  [ "$(cat /proc/$pid/comm 2>/dev/null)" = master ] || continue
  unit=$(sed -n 's/^[0-9]*:name=systemd://p' /proc/$pid/cgroup | tr '/' '\n' | grep -E '\.(service|scope)$' | grep -v '^init.scope$' | tail -1)
  echo "$d $pid $unit"
done`);
  const out: Record<string, MasterSeen> = {};
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [dir = '', pid = '', unit = ''] = line.split(' ');
    out[dir] = { pid: Number(pid), unit };
  }
  return out;
}

/** The failed postfix@/postfleet@ units. */
export async function failedUnits(host: BootedHost): Promise<string[]> {
  const r = await host.runOk("systemctl list-units --failed --plain --no-legend --no-pager 'postfix*' 'postfleet*' | awk '{print $1}'");
  return r.stdout.split('\n').filter(Boolean).sort();
}

export interface JobEvent {
  /** Microseconds since the epoch. */
  readonly at: number;
  readonly unit: string;
  readonly what: 'Starting' | 'Started' | 'Stopping' | 'Stopped';
}

/** systemd's job messages for postfix@/postfleet@ units since a cursor (or the boot). */
export async function jobEvents(host: BootedHost, cursorFile?: string): Promise<JobEvent[]> {
  const since = cursorFile !== undefined ? `--after-cursor="$(cat ${cursorFile})"` : '-b';
  const r = await host.runOk(`journalctl ${since} -q --no-pager -o json _PID=1 --output-fields=MESSAGE,UNIT,__REALTIME_TIMESTAMP`);
  const events: JobEvent[] = [];
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const j = JSON.parse(line) as { MESSAGE?: string; UNIT?: string; __REALTIME_TIMESTAMP?: string };
    const unit = j.UNIT ?? '';
    const what = /^(Starting|Started|Stopping|Stopped) /.exec(j.MESSAGE ?? '')?.[1] as JobEvent['what'] | undefined;
    if (what === undefined || !/^(postfix|postfleet)@/.test(unit)) continue;
    events.push({ at: Number(j.__REALTIME_TIMESTAMP), unit, what });
  }
  return events;
}

/** Saves the journal's current cursor in a file inside (for jobEvents()). */
export async function journalCursor(host: BootedHost, file: string): Promise<void> {
  await host.runOk(`journalctl -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p' > ${file}; [ -s ${file} ]`);
}

/**
 * After a failed test: what systemd was doing (its jobs, the journal's last lines) and the
 * commands run so far with their times, on stderr. Call from afterEach with the test context.
 */
export async function reportFailure(host: BootedHost | undefined, failed: boolean): Promise<void> {
  if (!failed || !host?.pid) return;
  const r = await host.run('systemctl list-jobs --no-pager; journalctl -n 80 --no-pager -o short-precise; ps -eo pid,stat,etime,args --forest', { timeoutMs: 30_000 });
  console.error(`systemd at the failure:\n${r.stdout}${r.stderr}\ncommands run:\n${host.history.join('\n')}`);
}
