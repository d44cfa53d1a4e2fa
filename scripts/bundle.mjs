#!/usr/bin/env node
// Bundles tsc's output (dist/) and its dependencies into dist/bundle/ with esbuild, so that
// start-up does not pay for resolving and compiling @oclif/core's ~100 CommonJS modules one by
// one. Run by `npm run build` after tsc and before `oclif manifest`.
//
// Entry points (their paths under dist/bundle/ are fixed; bin/run.js and package.json's
// oclif.commands refer to them):
//   cli.js            `execute` from @oclif/core/execute
//   compat/main.js    the postmulti-style path (must not pull in oclif, listr2 or execa)
//   systemd/generator.js  postfleet-generator, run by systemd at boot (idem)
//   commands/**.js    one per command, found by oclif's pattern discovery and `oclif manifest`
//   direct/run.js, direct/commands/**.js   the direct route (src/cli/direct.ts): a second build
//                     of every command, with the parts of @oclif/core that only oclif's runner
//                     needs left out (oclif-light.mjs); bin/run.js takes it for every modern
//                     command and falls back to cli.js where it cannot promise oclif's behaviour
// Everything shared lives once in chunks/, so the commands and cli.js see the same @oclif/core
// (its errors and classes are checked with instanceof). Dynamic import()s stay lazy chunks.
import { readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { anchorLazyImports, lazyModules } from './lazy-modules.mjs';
import { NOT_IN_DIRECT, oclifLight } from './oclif-light.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(DIST, 'bundle');

function jsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => path.join(e.parentPath ?? e.path, e.name))
    .sort();
}


// CommonJS modules inside an ESM bundle: esbuild's require shim falls back to a global
// `require`, and oclif uses require.resolve, __dirname and __filename (in try/catch or on
// development-only paths). __pfRoot is the package root (the directory holding dist/), for
// the import.meta.url rewrite below.
const banner = [
  "import { createRequire as __pfCreateRequire } from 'node:module';",
  "import { fileURLToPath as __pfFileURLToPath } from 'node:url';",
  'const require = __pfCreateRequire(import.meta.url);',
  'const __filename = __pfFileURLToPath(import.meta.url);',
  "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
  "const __pfRoot = import.meta.url.slice(0, import.meta.url.lastIndexOf('/dist/bundle/') + 1);",
].join('\n');

// The same for the CommonJS outputs (bin/run.js requires those: see cjs below), where require,
// __filename and __dirname are Node's own.
const cjsBanner = "const __pfRoot = require('node:url').pathToFileURL(__filename.slice(0, __filename.lastIndexOf('/dist/bundle/') + 1)).href;";

// Our modules resolve files relative to their own location in dist/ (e.g.
// new URL('../../templates', import.meta.url)); in the bundle they land in some other file, so
// import.meta.url in code from dist/ is replaced by the URL the module had in dist/.
const ownImportMetaUrl = {
  name: 'postfleet-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(DIST + path.sep) || args.path.startsWith(OUT + path.sep)) return undefined;
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const rel = path.relative(ROOT, args.path).split(path.sep).join('/');
      return { contents: source.replaceAll('import.meta.url', `(__pfRoot + ${JSON.stringify(rel)})`), loader: 'js' };
    });
  },
};

// oclif sorts the command list with localeCompare on every run; the first localeCompare
// sets up an ICU collator (~4 ms of start-up). The order of that list is not shown anywhere
// (help sorts by code point itself, commands are looked up by id), so compare code points.
const OCLIF_SORT = '.sort((a, b) => a.id.localeCompare(b.id))';
const oclifSort = {
  name: 'postfleet-oclif-sort',
  setup(build) {
    build.onLoad({ filter: /[\\/]@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes(OCLIF_SORT)) {
        console.warn(`bundle: ${args.path} no longer contains ${OCLIF_SORT}; left as is`);
        return undefined;
      }
      return { contents: source.replace(OCLIF_SORT, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))'), loader: 'js' };
    });
  },
};

const commandEntries = jsFiles(path.join(DIST, 'commands')).map((file) => ({
  in: file,
  out: path.relative(DIST, file).replace(/\.js$/, ''),
}));
const entryPoints = [
  { in: path.join(ROOT, 'scripts', 'cli-entry.js'), out: 'cli' },
  { in: path.join(DIST, 'systemd', 'generator-main.js'), out: 'systemd/generator' },
  ...commandEntries,
];

const common = {
  absWorkingDir: ROOT,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // typescript and ts-node: only on oclif's development (NODE_ENV=development/test) paths;
  // node-pty: native addon.
  external: ['typescript', 'ts-node', 'tsx', '@lydell/node-pty'],
  banner: { js: banner },
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
};
// (its real path: esbuild names modules by real path, and node_modules may be a symlink)
// CommonJS, one file, for what bin/run.js (CommonJS itself) loads with require(): the early
// postconf, the direct runner and each twin that is one file. A program whose modules are all
// CommonJS never starts Node's ESM loader, which costs per file (resolution, asynchronous reads,
// linking) several times what require() does.
const cjs = { ...common, format: 'cjs', splitting: false, banner: { js: cjsBanner }, outExtension: { '.js': '.cjs' } };
const light = oclifLight(realpathSync(path.join(ROOT, 'node_modules', '@oclif', 'core', 'lib')));

// A direct twin's entry: the command's class and the runner's second half, one module graph.
const twinEntry = {
  name: 'postfleet-twin-entry',
  setup(build) {
    build.onResolve({ filter: /^postfleet-twin:/ }, (args) => ({ path: args.path.slice('postfleet-twin:'.length), namespace: 'postfleet-twin' }));
    build.onLoad({ filter: /.*/, namespace: 'postfleet-twin' }, (args) => ({
      contents: [
        `import * as command from ${JSON.stringify(args.path)};`,
        // oclif's searchForCommandClass(): the default export, else the first exported class with run().
        "export default typeof command.default?.run === 'function' ? command.default : Object.values(command).find((c) => typeof c?.run === 'function');",
        `export { runCommand } from ${JSON.stringify(path.join(DIST, 'cli', 'direct-command.js'))};`,
      ].join('\n'),
      loader: 'js',
      resolveDir: DIST,
    }));
  },
};

// Each start-up path is a build of its own, with one entry, so that what it loads at start-up
// is one file (plus what it shares with its own lazy chunks): Node's ESM loader costs about as
// much per file as it takes to compile a few tens of KB.
rmSync(OUT, { recursive: true, force: true });
const directOut = path.join(OUT, 'direct');
const outPath = (file) => path.relative(ROOT, file).split(path.sep).join('/');
const [result, compat, runner] = await Promise.all([
  // oclif's route: cli.js and the commands, sharing one @oclif/core.
  esbuild.build({ ...common, entryPoints, outdir: OUT, plugins: [ownImportMetaUrl, oclifSort, lazyModules(ROOT)] }),
  // The postmulti-style path, postfix(1)'s multi_instance_wrapper.
  esbuild.build({ ...common, entryPoints: [{ in: path.join(DIST, 'compat', 'main.js'), out: 'compat/main' }], outdir: OUT, plugins: [anchorLazyImports(path.join(DIST, 'compat', 'main.js'), DIST + path.sep), ownImportMetaUrl, lazyModules(ROOT)] }),
  // The direct route's runner.
  esbuild.build({ ...cjs, entryPoints: [{ in: path.join(DIST, 'cli', 'direct.js'), out: 'run' }], outdir: directOut, plugins: [ownImportMetaUrl, light, lazyModules(ROOT)] }),
  // The worker threads' modules, a file each (queue/count.ts and queue/fleet-scan.ts find them in ../../bundle/workers/).
  esbuild.build({ ...common, entryPoints: [{ in: path.join(DIST, 'instances', 'queue', 'count-worker.js'), out: 'workers/queue-scan' }], outdir: OUT, plugins: [ownImportMetaUrl, lazyModules(ROOT)] }),
  esbuild.build({ ...common, entryPoints: [{ in: path.join(DIST, 'instances', 'queue', 'read-worker.js'), out: 'workers/queue-read' }], outdir: OUT, plugins: [ownImportMetaUrl, lazyModules(ROOT)] }),
]);
const outputs = result.metafile.outputs;
// The direct twins. A command that loads execa or listr2 at start-up (one that changes files or
// runs Postfix) spends far more than a few files' loading on those: such twins are one build,
// sharing chunks; every other twin (the read-only commands, the quick ones) is a build of its
// own, one file, at the price of its own copy of @oclif/core's parser and the domain code.
const loadsHeavy = (entry) => {
  try {
    checkStartup(outputs, outPath(path.join(OUT, `${entry.out}.js`)), /node_modules\/(execa|listr2)\//);
    return false;
  } catch {
    return true;
  }
};
const twinBuild = (entries) =>
  esbuild.build({
    ...common,
    entryPoints: entries.map((entry) => ({ in: `postfleet-twin:${entry.in}`, out: entry.out })),
    outdir: directOut,
    plugins: [...(entries.length === 1 ? [anchorLazyImports(`postfleet-twin:${entries[0].in}`, DIST + path.sep)] : []), twinEntry, ownImportMetaUrl, light, lazyModules(ROOT)],
  });
const shared = commandEntries.filter(loadsHeavy);
const alone = commandEntries.filter((entry) => !shared.includes(entry));
const twinBuilds = await Promise.all([...alone.map((entry) => twinBuild([entry])), ...(shared.length > 0 ? [twinBuild(shared)] : [])]);
const twinOutputs = Object.assign({}, ...twinBuilds.map((b) => b.metafile.outputs));

// Guard: what an entry loads at start-up (static imports; dynamic import()s are loaded when
// used). The postmulti-style path must not load oclif, listr2 or execa; the read-only commands
// whose start-up time matters must not load listr2 or execa (commands that edit main.cf load
// execa through maincf/write.js).
function checkStartup(outputs, entry, forbidden) {
  const seen = new Set();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const out = outputs[file];
    if (!out) throw new Error(`bundle: no output ${file}`);
    const bad = Object.keys(out.inputs).filter((input) => forbidden.test(input));
    if (bad.length > 0) throw new Error(`bundle: ${entry} loads ${file} at start-up, which contains ${bad.join(', ')}`);
    for (const imp of out.imports) if (imp.kind === 'import-statement' && !imp.external) stack.push(imp.path);
  }
}
/** Every input of `entry` and of what it imports, lazily or not. */
function closureInputs(outputs, entry) {
  const seen = new Set();
  const stack = [entry];
  const inputs = new Set();
  while (stack.length > 0) {
    const file = stack.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const input of Object.keys(outputs[file].inputs)) inputs.add(input);
    for (const imp of outputs[file].imports) if (!imp.external) stack.push(imp.path);
  }
  return [...inputs];
}
checkStartup(compat.metafile.outputs, outPath(path.join(OUT, 'compat', 'main.js')), /node_modules\/(@oclif|listr2|execa)\//);
checkStartup(outputs, outPath(path.join(OUT, 'systemd', 'generator.js')), /node_modules\/(@oclif|listr2|execa)\//);
checkStartup(runner.metafile.outputs, outPath(path.join(directOut, 'run.cjs')), /node_modules\/(listr2|execa)\//);
for (const command of ['list', 'status', 'templates']) {
  checkStartup(outputs, outPath(path.join(OUT, 'commands', `${command}.js`)), /node_modules\/(listr2|execa)\//);
  checkStartup(twinOutputs, outPath(path.join(directOut, 'commands', `${command}.js`)), /node_modules\/(listr2|execa)\//); // (its ESM build)
}
// The direct route's runner leaves oclif's runner out entirely (oclif-light.mjs); so does every
// command's twin, lazy chunks included, or the twin is removed and that command keeps to the
// oclif route (direct.ts looks for the twin's file).
const heavy = (outputs, entry) => closureInputs(outputs, entry).filter((input) => NOT_IN_DIRECT.test(input));
const runnerHeavy = heavy(runner.metafile.outputs, outPath(path.join(directOut, 'run.cjs')));
if (runnerHeavy.length > 0) throw new Error(`bundle: the direct route's runner contains ${runnerHeavy.join(', ')} (see scripts/oclif-light.mjs)`);
const oneFile = [];
for (const entry of commandEntries) {
  const twin = path.join(directOut, `${entry.out}.js`);
  const found = heavy(twinOutputs, outPath(twin));
  if (found.length > 0) {
    rmSync(twin);
    console.warn(`bundle: ${entry.out.replace(/^commands\//, '')} keeps to the oclif route: it loads ${found.slice(0, 3).join(', ')}`);
  } else if (alone.includes(entry) && twinOutputs[outPath(twin)].imports.every((imp) => imp.external)) {
    oneFile.push(entry);
  }
}
// A twin that is one file (no lazy chunks) is built again as CommonJS, X.cjs in place of X.js;
// direct.ts loads X.cjs with require() if it is there, else X.js with import().
await Promise.all(
  oneFile.map(async (entry) => {
    await esbuild.build({ ...cjs, entryPoints: [{ in: `postfleet-twin:${entry.in}`, out: entry.out }], outdir: directOut, plugins: [twinEntry, ownImportMetaUrl, light, lazyModules(ROOT)] });
    rmSync(path.join(directOut, `${entry.out}.js`));
  }),
);

// dist/bundle/early.cjs (src/cli/early.ts), required by bin/run.js before anything else: starts
// `postconf -d` for the commands that read the defaults (those whose bundle, lazy chunks
// included, holds maincf/defaults.js), while the program loads. On its own, without splitting:
// one small file.
const defaultsModule = 'dist/instances/maincf/defaults.js';
const defaultsWords = [
  ...new Set(
    commandEntries
      .filter((entry) => closureInputs(outputs, outPath(path.join(OUT, `${entry.out}.js`))).includes(defaultsModule))
      .map((entry) => entry.out.split('/')[1]),
  ),
].sort();
const early = await esbuild.build({
  ...cjs,
  entryPoints: [{ in: path.join(DIST, 'cli', 'early.js'), out: 'early' }],
  outdir: OUT,
  define: { POSTFLEET_DEFAULTS_WORDS: JSON.stringify(defaultsWords) },
  plugins: [lazyModules(ROOT)],
});
checkStartup(early.metafile.outputs, outPath(path.join(OUT, 'early.cjs')), /node_modules\//);

// `node scripts/bundle.mjs --meta`: esbuild's metafile (what went into which output), for
// https://esbuild.github.io/analyze/ or a look at what a command loads at start-up.
if (process.argv.includes('--meta')) {
  writeFileSync(path.join(OUT, 'meta.json'), JSON.stringify(result.metafile));
  writeFileSync(path.join(OUT, 'compat', 'meta.json'), JSON.stringify(compat.metafile));
  const merged = { inputs: {}, outputs: {} };
  for (const b of [runner, ...twinBuilds]) {
    Object.assign(merged.inputs, b.metafile.inputs);
    Object.assign(merged.outputs, b.metafile.outputs);
  }
  writeFileSync(path.join(directOut, 'meta.json'), JSON.stringify(merged));
}
