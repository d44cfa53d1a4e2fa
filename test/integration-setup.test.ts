/**
 * The README's first command, `./setup`: run by root it runs without sudo (a fresh Debian
 * has none); run by another user it runs itself again through sudo, and says so in one line
 * when there is no sudo. Without Node.js 20.19 it installs Debian's nodejs where that is new
 * enough (Debian 13), and otherwise says in one line that another source is needed (Debian 12).
 * What it runs once it is root (npm, postfleet, apt) is stubbed here: the point is who runs it
 * and what it decides, not the build. /usr is overlaid: apt_install writes policy-rc.d there.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, requireIntegration, Sandbox } from './helpers/sandbox.js';

const DIR = '/srv/setup-test';
const LOG = `${DIR}/log`;

describe.runIf(requireIntegration())('setup: as root, or through sudo', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create({ overlay: ['/usr'] });
    await sb.writeFile(`${DIR}/setup`, readFileSync(path.join(REPO_ROOT, 'setup'), 'utf8'), { mode: 0o755 });
    await sb.writeFile(`${DIR}/scripts/host.sh`, readFileSync(path.join(REPO_ROOT, 'scripts', 'host.sh'), 'utf8'));
    const stub = (name: string, body: string): Promise<void> => sb.writeFile(`${DIR}/stubs/${name}`, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    await stub('npm', `echo "npm $*" >> ${LOG}`);
    await stub('postfleet', `echo "postfleet $*" >> ${LOG}`);
    // sudo: says how it was called (by a user who may not write the log)
    await stub('sudo', 'echo "sudo $*"; [ "$(id -u)" -ne 0 ] || echo "sudo run by root" >> ' + LOG);
    // a PATH with nothing but id: no sudo, whatever the host has
    await sb.runOk(`mkdir -p ${DIR}/bare && ln -s "$(command -v id)" ${DIR}/bare/id && chmod -R a+rX ${DIR}`);
    // Node.js as apt would leave it: too old (or none) until apt-get installs nodejs
    const oldNode = (name: string, body: string): Promise<void> => sb.writeFile(`${DIR}/old-node/${name}`, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    await oldNode('node', `[ -e ${DIR}/nodejs-installed ] && exec "${process.execPath}" "$@"; [ "$1" = --version ] && { echo v18.20.4; exit 0; }; exit 1`);
    await oldNode('apt-get', `echo "apt-get $*" >> ${LOG}; case " $* " in *" nodejs "*) touch ${DIR}/nodejs-installed ;; esac`);
    await oldNode('apt-cache', 'printf "nodejs:\\n  Installed: (none)\\n  Candidate: %s\\n" "$CANDIDATE"');
  });
  beforeEach(async () => {
    await sb.runOk(`rm -f ${LOG} ${DIR}/nodejs-installed`);
  });
  afterAll(async () => {
    await sb?.dispose();
  });

  it('as root: runs without sudo', async () => {
    const r = await sb.run(`PATH=${DIR}/stubs:/usr/sbin:/usr/bin:/sbin:/bin ${DIR}/setup`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await sb.readFile(LOG)).toBe('npm ci --no-audit --no-fund\nnpm run build\nnpm link --no-audit --no-fund\npostfleet list\n');
  });

  it('as another user: runs itself again through sudo, with its arguments', async () => {
    const r = await sb.run(`setpriv --reuid=65534 --regid=65534 --clear-groups env PATH=${DIR}/stubs:/usr/bin:/bin ${DIR}/setup --an-argument`);
    expect(r).toEqual({ stdout: `sudo -- ${DIR}/setup --an-argument\n`, stderr: '', exitCode: 0 });
  });

  it("without Node.js 20.19: Debian's nodejs when it is new enough (Debian 13)", async () => {
    const policy = await sb.exists('/usr/sbin/policy-rc.d');
    const r = await sb.run(`CANDIDATE=20.19.2+dfsg-1 PATH=${DIR}/old-node:${DIR}/stubs:/usr/sbin:/usr/bin:/sbin:/bin ${DIR}/setup`);
    expect(r.exitCode, r.stderr).toBe(0);
    const log = await sb.readFile(LOG);
    expect(log).toMatch(/^apt-get update -q\napt-get install -y -q --no-install-recommends nodejs npm\nnpm ci --no-audit --no-fund\n/);
    expect(log).toMatch(/\npostfleet list\n$/);
    expect(await sb.exists('/usr/sbin/policy-rc.d')).toBe(policy); // refused starts only while it installed
  });

  it('without Node.js 20.19 where Debian has 18.20 (Debian 12): one line saying what to do, exit 1, nothing built', async () => {
    const r = await sb.run(`CANDIDATE=18.20.4+dfsg-1~deb12u3 PATH=${DIR}/old-node:${DIR}/stubs:/usr/sbin:/usr/bin:/sbin:/bin ${DIR}/setup`);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      "setup: Node.js >= 20.19 is needed (found: v18.20.4); this system's nodejs package is 18.20.4+dfsg-1~deb12u3: Debian 13 has 20.19, Debian 12 has 18.20 — install Node.js 20.19 or later from another source (such as NodeSource's packages) and run this again\n",
    );
    expect(await sb.readFile(LOG)).toBe('apt-get update -q\n');
  });

  it('as another user without sudo: one line saying so, exit 1', async () => {
    const r = await sb.run(`setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=${DIR}/bare /bin/bash ${DIR}/setup`);
    expect(r).toEqual({ stdout: '', stderr: 'setup: needs root: run it as root (sudo is not installed)\n', exitCode: 1 });
  });
});
