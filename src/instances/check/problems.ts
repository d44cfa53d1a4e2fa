/**
 * The fleet check: problems between and within instances, from facts
 * gathered beforehand (facts.ts). Pure, so that create and apply can ask
 * what a planned instance would add (problemsIntroduced()).
 */
import type { BrokenInstance, Instance } from '../instance.js';
import type { ParameterSet } from '../maincf/expand.js';
import { expandValue } from '../maincf/expand.js';
import { describeListener, listenersClash, listenersOf, parseHost, type Listener } from '../mastercf/listeners.js';
import { overrides, type MasterEntry } from '../mastercf/parse.js';

export type Severity = 'error' | 'warning';

export interface Problem {
  readonly severity: Severity;
  /** What kind of problem: listener-clash, syslog-name, … */
  readonly check: string;
  /** The instances concerned, by label (name, else config directory). */
  readonly instances: readonly string[];
  /** The settings concerned: `DIR/main.cf: name = value`, `DIR/master.cf:LINE service type`, a path. */
  readonly settings: readonly string[];
  readonly message: string;
}

export interface InstanceFacts {
  readonly instance: Instance;
  readonly label: string;
  readonly parameters: ParameterSet;
  /** master.cf's entries, or why it could not be read. */
  readonly master: readonly MasterEntry[] | { readonly error: string };
  /** Whether its master runs; undefined for an instance that does not exist yet. */
  readonly running: boolean | undefined;
  /** Its directories (config, queue, data) that do not exist. */
  readonly missing: ReadonlyArray<{ readonly param: string; readonly path: string }>;
}

export interface FleetFacts {
  /** Every instance that could be loaded, primary first, in list order. */
  readonly instances: readonly InstanceFacts[];
  readonly broken: readonly BrokenInstance[];
  /** Instance-looking directories next to the primary's that are not listed. */
  readonly unlisted: readonly string[];
  /** TCP port of a service name (/etc/services). */
  readonly port: (name: string) => number | undefined;
}

/** A parameter's value as postconf -xh prints it; '' where it cannot be expanded (reported by checkMainCf). */
function value(f: InstanceFacts, name: string): string {
  try {
    return f.parameters.get(name);
  } catch {
    return '';
  }
}

const setting = (f: InstanceFacts, name: string): string => `${f.instance.configDirectory}/main.cf: ${name} = ${value(f, name)}`;
const entryRef = (f: InstanceFacts, l: { line: number; service: string }): string => `${f.instance.configDirectory}/master.cf:${l.line} ${l.service} inet`;
const masterEntries = (f: InstanceFacts): readonly MasterEntry[] => ('error' in f.master ? [] : f.master);

function instanceListeners(f: InstanceFacts, port: FleetFacts['port']): Listener[] {
  return listenersOf(masterEntries(f), {
    inetInterfaces: value(f, 'inet_interfaces'),
    inetProtocols: value(f, 'inet_protocols'),
    masterServiceDisable: value(f, 'master_service_disable'),
    expand: (text) => expandValue(text, (n) => f.parameters.raw(n)),
    port,
  });
}

function checkBroken(facts: FleetFacts, out: Problem[]): void {
  for (const b of facts.broken) {
    const missing = /No such file or directory/.test(b.reason);
    out.push({
      severity: missing ? 'warning' : 'error',
      check: missing ? 'missing-directory' : 'broken-instance',
      instances: [b.configDirectory],
      settings: [b.configDirectory],
      message: missing ? `listed in multi_instance_directories but missing: ${b.reason}` : `cannot be loaded: ${b.reason}`,
    });
  }
  for (const f of facts.instances) {
    for (const m of f.missing) {
      out.push({ severity: 'warning', check: 'missing-directory', instances: [f.label], settings: [`${m.param} = ${m.path}`], message: `${m.param} ${m.path} does not exist` });
    }
  }
  for (const dir of facts.unlisted) {
    out.push({ severity: 'warning', check: 'unlisted-instance', instances: [dir], settings: [`${dir}/main.cf`], message: `${dir} holds a main.cf but is not in multi_instance_directories` });
  }
}

function checkMainCfAndMasterCf(facts: FleetFacts, out: Problem[]): void {
  for (const f of facts.instances) {
    if ('error' in f.master) out.push({ severity: 'error', check: 'master-cf', instances: [f.label], settings: [`${f.instance.configDirectory}/master.cf`], message: f.master.error });
    for (const name of ['syslog_name', 'myhostname', 'inet_interfaces', 'maillog_file']) {
      try {
        f.parameters.get(name);
      } catch (e) {
        out.push({ severity: 'error', check: 'main-cf', instances: [f.label], settings: [`${f.instance.configDirectory}/main.cf: ${name}`], message: (e as Error).message });
      }
    }
  }
}

function checkListeners(facts: FleetFacts, out: Problem[]): void {
  const byPort = new Map<number | string, Array<{ f: InstanceFacts; l: Listener }>>();
  for (const f of facts.instances) {
    if (!f.instance.enabled) continue;
    for (const l of instanceListeners(f, facts.port)) {
      const list = byPort.get(l.port) ?? [];
      list.push({ f, l });
      byPort.set(l.port, list);
    }
  }
  const seen = new Set<string>();
  for (const list of byPort.values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i]!;
        const b = list[j]!;
        if (a.f === b.f && a.l.line === b.l.line) continue;
        if (!listenersClash(a.l, b.l)) continue;
        const key = `${a.f.label}\0${a.l.line}\0${b.f.label}\0${b.l.line}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const who = a.f === b.f ? `${a.f.label} listens twice` : `${a.f.label} and ${b.f.label} both listen`;
        const where = describeListener(a.l) === describeListener(b.l) ? describeListener(a.l) : `${describeListener(a.l)} and ${describeListener(b.l)}`;
        out.push({
          severity: 'error',
          check: 'listener-clash',
          instances: a.f === b.f ? [a.f.label] : [a.f.label, b.f.label],
          settings: [entryRef(a.f, a.l), entryRef(b.f, b.l)],
          message: `${who} on ${where}: the second master cannot bind it`,
        });
      }
    }
  }
}

function groupBy<T>(items: readonly T[], key: (t: T) => string | undefined): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    if (k === undefined) continue;
    m.set(k, [...(m.get(k) ?? []), it]);
  }
  return m;
}

function checkSyslogNames(facts: FleetFacts, out: Problem[]): void {
  for (const [name, group] of groupBy(facts.instances, (f) => value(f, 'syslog_name'))) {
    if (group.length > 1) {
      out.push({
        severity: 'error',
        check: 'syslog-name',
        instances: group.map((f) => f.label),
        settings: group.map((f) => setting(f, 'syslog_name')),
        message: `${group.length} instances log as '${name}': their log lines cannot be told apart`,
      });
    }
  }
  for (const f of facts.instances) {
    if (!f.instance.primary && f.instance.name === undefined && !f.parameters.isExplicit('syslog_name')) {
      out.push({ severity: 'warning', check: 'syslog-name', instances: [f.label], settings: [setting(f, 'syslog_name')], message: 'nameless instance without an explicit syslog_name: it logs as the primary does' });
    }
    const name = value(f, 'syslog_name');
    if (!name.startsWith('postfix')) {
      out.push({ severity: 'warning', check: 'syslog-name', instances: [f.label], settings: [setting(f, 'syslog_name')], message: `syslog_name '${name}' does not start with 'postfix': log tools that look for postfix/* miss it` });
    }
  }
}

/** Where an instance sends mail on: relayhost, content filters, default transports (host and port). */
function destinations(f: InstanceFacts): Listener[] {
  const values = ['relayhost', 'content_filter', 'default_transport', 'relay_transport'].map((n) => value(f, n));
  for (const e of masterEntries(f)) {
    const filter = overrides(e).get('content_filter');
    if (filter) values.push(filter);
  }
  const out: Listener[] = [];
  for (const v of values.flatMap((x) => x.split(/[,\s]+/))) {
    const m = /\[([^\]]+)\](?::([\w-]+))?$/.exec(v) ?? /(?:^|:)([A-Za-z0-9.-]+):([\w-]+)$/.exec(v);
    if (!m) continue;
    const portText = m[2] ?? 'smtp';
    const port = /^\d+$/.test(portText) ? Number(portText) : portText;
    for (const a of parseHost(m[1]!, ['ipv4', 'ipv6'])) out.push({ ...a, port, service: v, line: 0 });
  }
  return out;
}

function checkHostnames(facts: FleetFacts, out: Problem[]): void {
  const resolve = (l: Listener): Listener => (typeof l.port === 'string' ? { ...l, port: facts.port(l.port) ?? l.port } : l);
  // Only instances with the same host name can loop: compare within each name.
  for (const group of groupBy(facts.instances.filter((f) => f.instance.enabled), (f) => value(f, 'myhostname')).values()) {
    if (group.length < 2) continue;
    const listeners = new Map(group.map((f) => [f, instanceListeners(f, facts.port)]));
    for (const a of group) {
      const dest = destinations(a).map(resolve);
      if (dest.length === 0) continue;
      for (const b of group) {
        if (a === b || !dest.some((d) => listeners.get(b)!.some((l) => listenersClash(d, l)))) continue;
        out.push({
          severity: 'warning',
          check: 'myhostname',
          instances: [a.label, b.label],
          settings: [setting(a, 'myhostname'), setting(b, 'myhostname')],
          message: `${a.label} passes mail to ${b.label} and both are '${value(a, 'myhostname')}': ${b.label} takes it for a loop back to itself`,
        });
      }
    }
  }
}

/** Parameters naming files that two instances must not share. */
const UNSHARED_PATHS = [
  'maillog_file',
  'postscreen_cache_map',
  'address_verify_map',
  'smtpd_tls_session_cache_database',
  'smtp_tls_session_cache_database',
  'lmtp_tls_session_cache_database',
] as const;

/** The file a path or cache-map setting names, if any: proxied maps are the proxymap's business. */
export function settingPath(value: string): string | undefined {
  if (value === '' || value.startsWith('proxy:')) return undefined;
  const path = value.replace(/^[a-z0-9_]+:(?=\/)/, '');
  if (!path.startsWith('/') || path.startsWith('/dev/')) return undefined;
  return path;
}

function checkSharedPaths(facts: FleetFacts, out: Problem[]): void {
  const uses = facts.instances.flatMap((f) =>
    UNSHARED_PATHS.flatMap((param) => {
      const path = settingPath(value(f, param));
      return path === undefined ? [] : [{ f, param, path }];
    }),
  );
  for (const [path, group] of groupBy(uses, (u) => u.path)) {
    const owners = [...new Set(group.map((u) => u.f))];
    if (owners.length < 2) continue;
    out.push({
      severity: 'error',
      check: 'shared-path',
      instances: owners.map((f) => f.label),
      settings: group.map((u) => setting(u.f, u.param)),
      message: `${path} is used by ${owners.length} instances (${[...new Set(group.map((u) => u.param))].join(', ')}): it must be each instance's own`,
    });
  }
}

/** Settings every instance must share with the primary: one installation, one set of users. */
const SHARED_INSTALL = ['command_directory', 'daemon_directory', 'shlib_directory', 'mail_owner', 'setgid_group'] as const;

function checkSharedInstall(facts: FleetFacts, out: Problem[]): void {
  const primary = facts.instances.find((f) => f.instance.primary);
  if (primary === undefined) return;
  for (const f of facts.instances) {
    if (f === primary) continue;
    for (const param of SHARED_INSTALL) {
      if (value(f, param) === value(primary, param)) continue;
      out.push({
        severity: 'error',
        check: 'shared-install',
        instances: [f.label],
        settings: [setting(f, param), setting(primary, param)],
        message: `${param} differs from the primary's ('${value(f, param)}' vs '${value(primary, param)}'): every instance runs the same Postfix installation`,
      });
    }
  }
}

function checkRunning(facts: FleetFacts, out: Problem[]): void {
  for (const f of facts.instances) {
    if (f.running === undefined || f.running === f.instance.enabled) continue;
    out.push({
      severity: 'warning',
      check: f.instance.enabled ? 'not-running' : 'running-disabled',
      instances: [f.label],
      settings: [setting(f, 'multi_instance_enable')],
      message: f.instance.enabled ? 'enabled but not running' : 'disabled but running',
    });
  }
}

function checkSafetySettings(facts: FleetFacts, out: Problem[]): void {
  for (const f of facts.instances) {
    if (!f.instance.enabled) continue;
    const left: string[] = [];
    const msd = value(f, 'master_service_disable');
    if (f.parameters.isExplicit('master_service_disable') && msd.split(/[,\s]+/).includes('inet')) left.push(setting(f, 'master_service_disable'));
    if (f.parameters.isExplicit('authorized_submit_users') && value(f, 'authorized_submit_users') === '') left.push(setting(f, 'authorized_submit_users'));
    if (left.length === 0) continue;
    out.push({
      severity: 'warning',
      check: 'creation-safety',
      instances: [f.label],
      settings: left,
      message: `enabled but still carrying create's safety settings (${left.map((s) => s.replace(/^.*main\.cf: /, '')).join('; ')}): it accepts no mail`,
    });
  }
}

/** Every problem of the fleet, errors first, then in the order found. */
export function checkFleet(facts: FleetFacts): Problem[] {
  const out: Problem[] = [];
  checkBroken(facts, out);
  checkMainCfAndMasterCf(facts, out);
  checkListeners(facts, out);
  checkSyslogNames(facts, out);
  checkHostnames(facts, out);
  checkSharedPaths(facts, out);
  checkSharedInstall(facts, out);
  checkRunning(facts, out);
  checkSafetySettings(facts, out);
  return [...out.filter((p) => p.severity === 'error'), ...out.filter((p) => p.severity === 'warning')];
}

/** The problems that concern at least one of the given instances (by label). */
export function problemsConcerning(problems: readonly Problem[], labels: ReadonlySet<string>): Problem[] {
  return problems.filter((p) => p.instances.some((i) => labels.has(i)));
}

export const problemKey = (p: Problem): string => JSON.stringify([p.severity, p.check, p.instances, p.settings, p.message]);

/**
 * What a change would add: the problems of `after` that `before` does not
 * have. For create and apply: facts of the fleet as it is, and as it would
 * be with the planned instances (plannedInstanceFacts()).
 */
export function problemsIntroduced(before: FleetFacts, after: FleetFacts): Problem[] {
  const old = new Set(checkFleet(before).map(problemKey));
  return checkFleet(after).filter((p) => !old.has(problemKey(p)));
}

export function countBySeverity(problems: readonly Problem[]): Record<Severity, number> {
  return { error: problems.filter((p) => p.severity === 'error').length, warning: problems.filter((p) => p.severity === 'warning').length };
}
