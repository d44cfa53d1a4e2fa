/**
 * The README's first command, `./setup`: run by root it runs without sudo (a fresh Debian
 * has none); run by another user it runs itself again through sudo, and says so in one line
 * when there is no sudo. What it runs once it is root (npm, postfleet) is stubbed here: the
 * point is who runs it, not the build.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, requireIntegration, Sandbox } from './helpers/sandbox.js';

const DIR = '/srv/setup-test';
const LOG = `${DIR}/log`;

describe.runIf(requireIntegration())('setup: as root, or through sudo', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.writeFile(`${DIR}/setup`, readFileSync(path.join(REPO_ROOT, 'setup'), 'utf8'), { mode: 0o755 });
    const stub = (name: string, body: string): Promise<void> => sb.writeFile(`${DIR}/stubs/${name}`, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    await stub('npm', `echo "npm $*" >> ${LOG}`);
    await stub('postfleet', `echo "postfleet $*" >> ${LOG}`);
    // sudo: says how it was called (by a user who may not write the log)
    await stub('sudo', 'echo "sudo $*"; [ "$(id -u)" -ne 0 ] || echo "sudo run by root" >> ' + LOG);
    // a PATH with nothing but id: no sudo, whatever the host has
    await sb.runOk(`mkdir -p ${DIR}/bare && ln -s "$(command -v id)" ${DIR}/bare/id && chmod -R a+rX ${DIR}`);
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

  it('as another user without sudo: one line saying so, exit 1', async () => {
    const r = await sb.run(`setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=${DIR}/bare /bin/bash ${DIR}/setup`);
    expect(r).toEqual({ stdout: '', stderr: 'setup: needs root: run it as root (sudo is not installed)\n', exitCode: 1 });
  });
});
