import { PostfleetCommand } from '../cli/base.js';
import { configDirFlag, selectionFlags, selectionFromFlags } from '../cli/flags.js';
import { probeContext, probeFlags, probeSettings } from '../cli/rollout.js';
import { PostfleetError } from '../instances/errors.js';
import { instanceLabel } from '../instances/instance.js';
import { loadFleetOverlapped } from '../instances/registry.js';
import { nothingSelectedMessage, selectInstances } from '../instances/selection.js';
import { probeInstances, type InstanceProbe } from '../instances/probe/probe.js';

export interface ProbeAnswer {
  /** Every probed instance is healthy (and none selected is broken). */
  readonly healthy: boolean;
  readonly instances: readonly InstanceProbe[];
  /** Selected but not probed: disabled (postmulti's control commands skip them too). */
  readonly skipped: ReadonlyArray<{ readonly instance: string; readonly configDirectory: string; readonly reason: string }>;
}

export default class Probe extends PostfleetCommand {
  static override summary = 'Probe the health of the selected instances: master running, every inet service answering.';
  static override description = `The probe a roll-out (--rolling) runs after each batch, alone, for monitoring. For each enabled instance: its master runs; each inet service of its master.cf accepts a connection on the instance's own address (a wildcard listener on loopback); smtpd and postscreen greet with 220, answer EHLO with 250, and answer MAIL FROM:<> and RCPT TO:<postmaster@$myhostname> with a 2xx or a 5xx (policy), not a 4.3.x (server configuration or lookup failure), a timeout or a disconnect; a wrapper-mode (smtpd_tls_wrappermode) service completes a TLS handshake first. Then RSET and QUIT: nothing is ever delivered.

Exit status 1 if an instance is unhealthy or broken.`;
  static override examples = ['<%= config.bin %> probe', '<%= config.bin %> probe -g mta --json', '<%= config.bin %> probe -i out --probe-rcpt none --probe-timeout 3s'];
  static override enableJsonFlag = true;
  static override flags = { ...selectionFlags, ...probeFlags, ...configDirFlag };

  async run(): Promise<ProbeAnswer> {
    const { flags } = await this.parse(Probe);
    const settings = probeSettings(flags);
    const selection = selectionFromFlags(flags);
    const fleet = await loadFleetOverlapped({ configDirectory: flags['config-dir'] });
    const selected = selectInstances(fleet.entries, selection);
    const broken = this.reportBroken(fleet.entries);
    if (selected.length === 0 && broken === 0) throw new PostfleetError(nothingSelectedMessage(fleet.entries, selection));
    const enabled = selected.filter((i) => i.enabled);
    const skipped = selected.filter((i) => !i.enabled).map((i) => ({ instance: instanceLabel(i), configDirectory: i.configDirectory, reason: 'disabled' }));
    const instances = await probeInstances(enabled, probeContext(settings, fleet.defaults));
    if (!this.jsonEnabled()) {
      for (const p of instances) this.log(describeProbe(p));
      for (const s of skipped) this.log(`${s.instance}: skipped: ${s.reason}`);
    }
    const healthy = broken === 0 && instances.every((p) => p.healthy);
    if (!healthy) process.exitCode = 1;
    return { healthy, instances, skipped };
  }
}

/** One line per instance: what answered, or the first thing wrong. */
export function describeProbe(p: InstanceProbe): string {
  if (!p.healthy) return `${p.instance}: UNHEALTHY: ${p.error}`;
  const services = p.services.map((s) => ('address' in s ? `${s.address} ${s.command}${s.tls ? '+TLS' : ''}${Object.values(s.replies).length > 0 ? ` ${Object.values(s.replies).map((r) => r.slice(0, 3)).join('/')}` : ''}` : s.service));
  return `${p.instance}: healthy: master ${p.master.pid}${services.length > 0 ? `; ${services.join(', ')}` : '; no inet service'} (${p.durationMs} ms)`;
}
