/**
 * Running the real ansible-core against the collection in ansible/ (postfleet.fleet).
 *
 * buildCollection() builds the collection with `ansible-galaxy collection build` and installs
 * the tarball with `ansible-galaxy collection install -p` into a temp dir (on the host, under
 * the temp dir the sandboxes share; HOME is a temp dir too, so nothing lands in ~/.ansible).
 * Playbooks then run inside a Sandbox (test/helpers/sandbox.ts) with `connection: local`:
 * every file they write is inside the sandbox's overlays or its temp dir, and `postfleet` on
 * the sandbox's PATH is this checkout's CLI.
 */
import { execa, execaSync } from 'execa';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, shq, type RunResult, type Sandbox } from './sandbox.js';

export const COLLECTION_SOURCE = path.join(REPO_ROOT, 'ansible');
/** ansible-core runs its modules with this interpreter (the Debian package's). */
export const PYTHON = '/usr/bin/python3';
const TOOLS = ['ansible-playbook', 'ansible-galaxy', 'ansible-doc'];
const PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');

function probe(): { available: boolean; reason?: string } {
  const r = execaSync('bash', ['--norc', '-c', 'for c; do command -v "$c" >/dev/null || echo "$c"; done; "$PY" -c "import ansible" 2>/dev/null || echo "$PY with the ansible package"', 'x', ...TOOLS], {
    reject: false,
    env: { PATH, PY: PYTHON },
    extendEnv: false,
  });
  const missing = String(r.stdout).split('\n').filter(Boolean);
  if (r.exitCode !== 0 || missing.length > 0) return { available: false, reason: `ansible-core is not installed (missing: ${missing.join(', ') || String(r.stderr)})` };
  return { available: true };
}

const ansible: { readonly available: boolean; readonly reason?: string } = Object.freeze(probe());

let warned = false;
/** Like requireIntegration(), for ansible-core: skip with a reason, or throw under POSTFLEET_REQUIRE_INTEGRATION=1. */
export function requireAnsible(): boolean {
  if (ansible.available) return true;
  const reason = ansible.reason ?? 'unknown reason';
  if (process.env.POSTFLEET_REQUIRE_INTEGRATION === '1') {
    throw new Error(`ansible tests are required (POSTFLEET_REQUIRE_INTEGRATION=1) but cannot run: ${reason}`);
  }
  if (!warned) {
    warned = true;
    console.warn(`[postfleet] skipping ansible tests: ${reason}`);
  }
  return false;
}

/** Environment for ansible-core outside a sandbox: a private HOME, UTF-8 (ansible-core refuses other locales). */
function ansibleEnv(home: string): Record<string, string> {
  return {
    PATH,
    HOME: home,
    LC_ALL: 'C.UTF-8',
    ANSIBLE_LOCAL_TEMP: path.join(home, 'tmp'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

export interface BuiltCollection {
  /** Temp dir holding everything below. */
  readonly dir: string;
  /** The tarball ansible-galaxy built. */
  readonly tarball: string;
  /** A collections path with postfleet.fleet installed from the tarball. */
  readonly collectionsPath: string;
  readonly env: Record<string, string>;
  dispose(): void;
}

const TEMP_PREFIX = 'postfleet-ansible-';

/** ansible-galaxy collection build + install into a temp collections path. */
export async function buildCollection(): Promise<BuiltCollection> {
  const dir = mkdtempSync(path.join(os.tmpdir(), TEMP_PREFIX));
  const env = ansibleEnv(path.join(dir, 'home'));
  const opts = { env, extendEnv: false, cwd: dir, all: true } as const;
  try {
    await mkdir(env.ANSIBLE_LOCAL_TEMP!, { recursive: true });
    const build = await execa('ansible-galaxy', ['collection', 'build', COLLECTION_SOURCE, '--output-path', path.join(dir, 'dist')], { ...opts, reject: false });
    if (build.exitCode !== 0) throw new Error(`ansible-galaxy collection build failed (exit ${build.exitCode}):\n${build.all}`);
    const tarballs = readdirSync(path.join(dir, 'dist')).filter((f) => f.endsWith('.tar.gz'));
    if (tarballs.length !== 1) throw new Error(`ansible-galaxy collection build made ${tarballs.join(', ') || 'no tarball'}:\n${build.all}`);
    const tarball = path.join(dir, 'dist', tarballs[0]!);
    const collectionsPath = path.join(dir, 'collections');
    const install = await execa('ansible-galaxy', ['collection', 'install', '--offline', '-p', collectionsPath, tarball], { ...opts, reject: false });
    if (install.exitCode !== 0) throw new Error(`ansible-galaxy collection install failed (exit ${install.exitCode}):\n${install.all}`);
    return { dir, tarball, collectionsPath, env: { ...env, ANSIBLE_COLLECTIONS_PATH: collectionsPath }, dispose: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

interface RecapLine {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export interface PlaybookResult extends RunResult {
  /** The PLAY RECAP block as ansible-playbook printed it (header line included). */
  recapText: string;
  /** Per host, the counts of the PLAY RECAP. */
  recap: Record<string, RecapLine>;
}

/** The PLAY RECAP of ansible-playbook's default output. */
function parseRecap(stdout: string): { recapText: string; recap: Record<string, RecapLine> } {
  const at = stdout.lastIndexOf('PLAY RECAP');
  if (at < 0) return { recapText: '', recap: {} };
  const lines = stdout.slice(at).split('\n');
  const block: string[] = [lines[0]!];
  const recap: Record<string, RecapLine> = {};
  for (const line of lines.slice(1)) {
    const m = /^(\S+)\s+:\s+(.*\S)\s*$/.exec(line);
    if (!m) {
      if (line.trim() === '') continue;
      break;
    }
    block.push(line.trimEnd());
    const counts: Record<string, number> = {};
    for (const kv of m[2]!.split(/\s+/)) {
      const [k, v] = kv.split('=');
      counts[k!] = Number(v);
    }
    recap[m[1]!] = {
      ok: counts.ok ?? NaN,
      changed: counts.changed ?? NaN,
      unreachable: counts.unreachable ?? NaN,
      failed: counts.failed ?? NaN,
      skipped: counts.skipped ?? NaN,
      rescued: counts.rescued ?? NaN,
      ignored: counts.ignored ?? NaN,
    };
  }
  return { recapText: block.join('\n'), recap };
}

export interface PlaybookOptions {
  inventory?: string;
  check?: boolean;
  diff?: boolean;
  forks?: number;
  extraArgs?: readonly string[];
  timeoutMs?: number;
}

/**
 * Playbooks run by ansible-playbook inside a sandbox, from a work dir in the sandbox's temp dir
 * (seen at the same path inside and out): playbooks, inventories, ansible.cfg, HOME.
 */
export class AnsibleInSandbox {
  readonly workdir: string;

  private constructor(
    readonly sb: Sandbox,
    readonly collection: BuiltCollection,
  ) {
    this.workdir = path.join(sb.dir, 'ansible');
  }

  static async create(sb: Sandbox, collection: BuiltCollection): Promise<AnsibleInSandbox> {
    const a = new AnsibleInSandbox(sb, collection);
    for (const d of ['home', 'tmp-local', 'tmp-remote', 'results']) await mkdir(path.join(a.workdir, d), { recursive: true });
    await writeFile(
      path.join(a.workdir, 'ansible.cfg'),
      [
        '[defaults]',
        `collections_path = ${collection.collectionsPath}`,
        `local_tmp = ${path.join(a.workdir, 'tmp-local')}`,
        `remote_tmp = ${path.join(a.workdir, 'tmp-remote')}`,
        `interpreter_python = ${PYTHON}`,
        'retry_files_enabled = False',
        'host_key_checking = False',
        'stdout_callback = default',
        'nocolor = True',
        'gathering = explicit',
        '',
      ].join('\n'),
    );
    await a.write('localhost.ini', 'localhost ansible_connection=local\n');
    return a;
  }

  /** Writes a file of the work dir (a playbook, an inventory); returns its path. */
  async write(name: string, content: string): Promise<string> {
    const p = path.join(this.workdir, name);
    await writeFile(p, content);
    return p;
  }

  /** Where a playbook may leave what it registered (see the `save` tasks of the tests). */
  resultsDir(): string {
    return path.join(this.workdir, 'results');
  }

  async playbook(name: string, opts: PlaybookOptions = {}): Promise<PlaybookResult> {
    const argv = ['ansible-playbook', '-i', path.join(this.workdir, opts.inventory ?? 'localhost.ini'), path.join(this.workdir, name)];
    if (opts.check) argv.push('--check');
    if (opts.diff) argv.push('--diff');
    if (opts.forks !== undefined) argv.push('--forks', String(opts.forks));
    argv.push(...(opts.extraArgs ?? []));
    const r = await this.sb.run(`exec ${argv.map(shq).join(' ')}`, {
      cwd: this.workdir,
      timeoutMs: opts.timeoutMs ?? 300_000,
      env: {
        HOME: path.join(this.workdir, 'home'),
        LC_ALL: 'C.UTF-8',
        ANSIBLE_CONFIG: path.join(this.workdir, 'ansible.cfg'),
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_FORCE_COLOR: '0',
        PYTHONDONTWRITEBYTECODE: '1',
        // The sandbox shares the host's /run: on a systemd-booted host postfleet would start
        // and stop masters through the host's systemctl. Here they are the sandbox's own.
        POSTFLEET_NO_SYSTEMD: '1',
      },
    });
    return { ...r, ...parseRecap(r.stdout) };
  }
}
