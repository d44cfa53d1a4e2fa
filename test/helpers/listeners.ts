/**
 * Fleets whose instances listen on loopback ports, for the probe and roll-out tests. They run
 * in a Sandbox created with `network: 'private'`: its own loopback, so every sandbox may use
 * the same ports.
 */
import path from 'node:path';
import { REPO_ROOT, shq, type Sandbox } from './sandbox.js';
import { waitFor } from './timing.js';

export interface Listening {
  readonly name: string;
  /** The port of its smtpd on 127.0.0.1. */
  readonly port: number;
}

/**
 * Creates the instances (group mta), each with its own myhostname, a log file, and its smtp
 * service moved to 127.0.0.1:PORT (the stock `smtp inet … smtpd` line commented out; new
 * instances have `master_service_disable = inet`, which is removed), enables and starts them.
 * The aliases database is built: RCPT TO:<postmaster@…> looks it up.
 */
export function listeningFleet(instances: readonly Listening[]): string {
  const lines = ['set -e', 'postfleet init >/dev/null', `postfleet create ${instances.map((i) => i.name).join(' ')} --group mta >/dev/null`, 'postalias /etc/aliases'];
  for (const i of instances) {
    const dir = `/etc/${i.name}`;
    const short = i.name.replace(/^postfix-/, '');
    lines.push(
      `postconf -c ${dir} -X master_service_disable`,
      `postconf -c ${dir} -e inet_interfaces=loopback-only myhostname=${short}.example maillog_file=/var/log/${i.name}.log`,
      `postconf -c ${dir} -M# smtp/inet`,
      `postconf -c ${dir} -Me ${shq(`127.0.0.1:${i.port}/inet=127.0.0.1:${i.port} inet n - y - - smtpd`)}`,
    );
  }
  lines.push("touch -d '-1 minute' /etc/postfix*/main.cf", `postfleet enable ${instances.map((i) => i.name).join(' ')} >/dev/null`, "touch -d '-1 minute' /etc/postfix*/main.cf", 'postfleet postfix start -g mta >/dev/null');
  return lines.join('\n');
}

/** A self-signed certificate (EC, quick to make) and key for an instance's TLS. */
export function selfSignedCertificate(dir: string, cn: string): string {
  return `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ${dir}/key.pem -out ${dir}/cert.pem -days 2 -subj /CN=${cn} 2>/dev/null`;
}

/** The policy server that holds every connection (helpers/policy-hold.mjs), running in the sandbox. */
export interface PolicyHold {
  /** Resolves once a connection is held (a probe's RCPT is waiting on it). */
  held(): Promise<void>;
  /** Closes every connection, now and later: smtpd then answers RCPT with 451 4.3.5. */
  release(): Promise<void>;
}

/** `pass`: how many connections are answered (DUNNO) before it holds the next ones. */
export async function startPolicyHold(sb: Sandbox, port: number, pass = 0): Promise<PolicyHold> {
  const marker = `/var/lib/policy-hold-${port}`;
  const ready = `${marker}.ready`;
  const script = path.join(REPO_ROOT, 'test', 'helpers', 'policy-hold.mjs');
  const pid = (await sb.runOk(`rm -f ${marker} ${ready}; node ${shq(script)} ${port} ${marker} ${ready} ${pass} >/dev/null 2>&1 & echo $!`)).stdout.trim();
  await waitFor(`the policy server on port ${port}`, () => sb.exists(ready));
  return {
    held: () => waitFor(`a connection held by the policy server on port ${port}`, () => sb.exists(marker)).then(() => undefined),
    release: () => sb.runOk(`kill -USR1 ${pid}`).then(() => undefined),
  };
}
