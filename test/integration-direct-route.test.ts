/**
 * The direct route (src/cli/direct.ts): the modern commands and --version run without oclif's
 * runner, and must answer exactly as on the oclif route (POSTFLEET_DIRECT=0): the same stdout,
 * stderr and exit status, for data, --json, errors and --help. Argument vectors the direct route
 * cannot promise to treat as oclif does (a parse error, --help, a topic, an unknown command) must
 * be handed to oclif: which route ran is read from Node's module loaders' trace
 * (NODE_DEBUG=esm,module), which names dist/bundle/cli.js only when oclif's runner is loaded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET_FIXTURE } from './helpers/fleet.js';
import { requireIntegration, Sandbox, shjoin, type RunResult } from './helpers/sandbox.js';
import { budget } from './helpers/timing.js';

type Route = 'direct' | 'oclif';

interface Case {
  readonly argv: readonly string[];
  readonly route: Route;
  /** Expected exit status (a check of the case itself: both routes failing alike would also compare equal). */
  readonly exit: number;
  readonly env?: Record<string, string>;
  readonly tty?: boolean;
}

const cases: Case[] = [
  { argv: ['--version'], route: 'direct', exit: 0 },
  { argv: ['list'], route: 'direct', exit: 0 },
  { argv: ['list', '--json'], route: 'direct', exit: 0 },
  { argv: ['list', '-g', 'mta'], route: 'direct', exit: 0 },
  { argv: ['list', '-g', 'mta', '-g', 'out', '--enabled'], route: 'direct', exit: 0 },
  { argv: ['list', '-i', 'b', '--json'], route: 'direct', exit: 0 },
  { argv: ['list', '--instance=-', '--json'], route: 'direct', exit: 0 },
  { argv: ['list', '-R', '--disabled'], route: 'direct', exit: 0 },
  { argv: ['list', '-c', '/etc/postfix'], route: 'direct', exit: 0 },
  { argv: ['-c', '/etc/postfix', 'list', '--json'], route: 'direct', exit: 0 },
  { argv: ['list', '--json', '--', 'x'], route: 'oclif', exit: 2 },
  { argv: ['list'], env: { POSTFLEET_CONTENT_TYPE: 'json' }, route: 'direct', exit: 0 },
  { argv: ['list', '-g', 'nosuch'], route: 'direct', exit: 1 },
  { argv: ['list', '-i', 'nosuch', '--json'], route: 'direct', exit: 1 },
  { argv: ['status'], route: 'direct', exit: 0 },
  { argv: ['status', '--json'], route: 'direct', exit: 0 },
  { argv: ['status', '-g', 'mta', '--enabled', '--json'], route: 'direct', exit: 0 },
  { argv: ['status', '-i', 'nomatch'], route: 'direct', exit: 1 },
  { argv: ['config', 'get', 'myhostname', 'queue_directory'], route: 'direct', exit: 0 },
  { argv: ['config', 'get', 'mydomain', '-g', 'out', '--json'], route: 'direct', exit: 0 },
  { argv: ['templates', '--json'], route: 'direct', exit: 0 },
  // Commands that change files, in --dry-run; enable/disable parse with their parent class.
  { argv: ['enable', '--dry-run', 'postfix-b'], route: 'direct', exit: 0 },
  { argv: ['disable', '--dry-run', '-g', 'mta', '--json'], route: 'direct', exit: 0 },
  { argv: ['create', '--dry-run', 'postfix-zz', '-G', 'mta'], route: 'direct', exit: 0 },
  { argv: ['enable', '--dry-run', '--bogus', 'postfix-b'], route: 'oclif', exit: 2 },
  { argv: ['enable', '--dry-run', 'postfix-nosuch'], route: 'direct', exit: 1 },
  // JSON to a terminal: coloured by oclif only with a theme (then oclif answers, see below).
  { argv: ['list', '--json', '-i', 'a'], tty: true, route: 'direct', exit: 0 },
  // What oclif answers itself.
  { argv: [], route: 'oclif', exit: 0 },
  { argv: ['--help'], route: 'oclif', exit: 0 },
  { argv: ['list', '--help'], route: 'oclif', exit: 0 },
  { argv: ['status', '-g', 'mta', '--help'], route: 'oclif', exit: 0 },
  { argv: ['config'], route: 'oclif', exit: 0 },
  { argv: ['nosuchcommand'], route: 'oclif', exit: 2 },
  { argv: ['list', '--bogus'], route: 'oclif', exit: 2 },
  { argv: ['list', '-a', '-g', 'mta'], route: 'oclif', exit: 2 },
  { argv: ['list', '-g'], route: 'oclif', exit: 2 },
  { argv: ['list', 'extra'], route: 'oclif', exit: 2 },
  { argv: ['status', '-h'], route: 'oclif', exit: 2 },
  { argv: ['list'], env: { POSTFLEET_DIRECT: '0' }, route: 'oclif', exit: 0 },
];

describe.runIf(requireIntegration())('the direct route answers as oclif does', () => {
  let sb: Sandbox;

  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.runOk(FLEET_FIXTURE);
  });
  afterAll(async () => {
    await sb?.dispose();
  });

  function run(c: Case, env: Record<string, string> = {}): Promise<RunResult> {
    return sb.run(`exec ${shjoin(['postfleet', ...c.argv])}`, { env: { ...c.env, ...env }, ...(c.tty ? { tty: true } : {}) });
  }

  /** The route taken, from the module loaders' trace (on stderr, or in the terminal's output). */
  async function routeOf(c: Case, env: Record<string, string> = {}): Promise<Route> {
    const r = await run(c, { ...env, NODE_DEBUG: 'esm,module' });
    const trace = r.stderr + (c.tty ? r.stdout : '');
    expect(trace).toContain('/bin/run.js'); // the trace is there at all
    return trace.includes('/dist/bundle/cli.js') ? 'oclif' : 'direct';
  }

  async function compare(c: Case, env: Record<string, string> = {}): Promise<void> {
    const [direct, oclif, route] = await Promise.all([run(c, env), run(c, { ...env, POSTFLEET_DIRECT: '0' }), routeOf(c, env)]);
    expect({ argv: c.argv, route }).toEqual({ argv: c.argv, route: c.route });
    expect({ argv: c.argv, ...direct }).toEqual({ argv: c.argv, ...oclif });
    expect({ argv: c.argv, exit: direct.exitCode }).toEqual({ argv: c.argv, exit: c.exit });
  }

  it('the same stdout, stderr and exit status on both routes; the route expected', { timeout: budget(cases.length * 3) }, async () => {
    for (const c of cases) await compare(c);
    // A sanity check of the fixture: the direct answers hold data.
    const list = await run({ argv: ['list', '--json'], route: 'direct', exit: 0 });
    expect((JSON.parse(list.stdout) as unknown[]).length).toBe(7);
  });

  it('a broken instance: reported, listed as broken, exit status 1, on both routes', { timeout: budget(4 * 3) }, async () => {
    await sb.runOk(`cp /etc/postfix/main.cf /tmp/main.cf.saved && postconf -e "multi_instance_directories = $(postconf -h multi_instance_directories) /etc/postfix-gone" && touch -d '-1 minute' /etc/postfix/main.cf`);
    try {
      for (const argv of [['list'], ['list', '--json'], ['status', '--json'], ['status', '-g', 'mta']]) await compare({ argv, route: 'direct', exit: 1 });
      expect((await run({ argv: ['list'], route: 'direct', exit: 1 })).stderr).toContain('/etc/postfix-gone');
    } finally {
      await sb.runOk(`cp /tmp/main.cf.saved /etc/postfix/main.cf && touch -d '-1 minute' /etc/postfix/main.cf`);
    }
  });

  it('a colour theme (oclif colours JSON with it): JSON goes to oclif; a table stays direct', { timeout: budget(3 * 3) }, async () => {
    await sb.runOk(`mkdir -p /tmp/home/.config/postfleet && echo '{"json": {"key": "cyan"}}' > /tmp/home/.config/postfleet/theme.json`);
    const env = { HOME: '/tmp/home' };
    await compare({ argv: ['list', '--json', '-i', 'a'], tty: true, route: 'oclif', exit: 0 }, env);
    await compare({ argv: ['list', '--json', '-i', 'a'], route: 'oclif', exit: 0 }, env);
    await compare({ argv: ['list', '-i', 'a'], route: 'direct', exit: 0 }, env);
  });

  it('oclif\'s diagnostics and settings in the environment (DEBUG, POSTFLEET_DEBUG, OCLIF_*): oclif\'s route', { timeout: budget(4 * 2) }, async () => {
    const c: Case = { argv: ['list', '-g', 'mta'], route: 'oclif', exit: 0 };
    const envs: Array<Record<string, string>> = [{ DEBUG: 'nothing-that-matches' }, { POSTFLEET_DEBUG: '1' }, { OCLIF_COLUMNS: '100' }, { NODE_ENV: 'development' }];
    for (const env of envs) {
      expect({ env, route: await routeOf(c, env) }).toEqual({ env, route: 'oclif' });
      const r = await run(c, env);
      expect({ env, stdout: r.stdout, exit: r.exitCode }).toEqual({ env, stdout: (await run(c, { POSTFLEET_DIRECT: '0' })).stdout, exit: 0 });
    }
  });
});
