// esbuild plugin for the direct route's bundles (dist/bundle/direct/, see bundle.mjs and
// src/cli/direct.ts): @oclif/core's own Command, flags, args, parser and ux, without the parts
// that only oclif's runner needs. Those parts (Config and its plugin loader, help, the error
// handler, the debug logger) are most of what `import '@oclif/core/command'` costs at start-up:
// command.js requires config/index.js, errors/index.js requires handle.js, which requires help,
// which requires config/ts-path.js, ... — about 600 KB of source parsed and run before any
// command starts.
//
// Each replacement below stands for one @oclif/core module *as required from inside @oclif/core*
// and keeps the exports the remaining real modules use:
//   config/index.js      Config: only Command.run (static) loads one; the direct route never calls it.
//   errors/index.js      every export but handle() (the runner's edge does that job).
//   help/index.js        the id helpers of help/util.js; the Help class is the oclif route's job
//                        (--help never takes the direct route).
//   help/util.js's ejs   help/util.js renders templates with ejs only for help.
//   logger.js            no-op debug functions: the direct route is not taken when DEBUG is set,
//                        and without DEBUG the debug package prints nothing either.
//   ux/action/spinner.js the simple action: no command starts oclif's action (listr2 shows
//                        progress; one that did would show the simple one on a terminal), and
//                        Command.catch's action.stop() is a no-op on both.
// bundle.mjs checks after the build that none of the replaced modules (nor ejs, debug, minimatch,
// tinyglobby, lilconfig, cli-spinners) made it into the direct runner (else the build fails) or
// into a command's twin (else the twin is removed and that command keeps to oclif's route).
import path from 'node:path';

/** @param {string} oclifLib absolute path of node_modules/@oclif/core/lib */
export function oclifLight(oclifLib) {
  const lib = (p) => JSON.stringify(path.join(oclifLib, p));
  const replacements = new Map([
    [
      'config/index.js',
      `class Config {
        static async load() { throw new Error('postfleet direct route: oclif Config is not loaded here'); }
      }
      module.exports = { Config };`,
    ],
    [
      'errors/index.js',
      `module.exports = {
        error: require(${lib('errors/error.js')}).error,
        CLIError: require(${lib('errors/errors/cli.js')}).CLIError,
        ExitError: require(${lib('errors/errors/exit.js')}).ExitError,
        ModuleLoadError: require(${lib('errors/errors/module-load.js')}).ModuleLoadError,
        exit: require(${lib('errors/exit.js')}).exit,
        warn: require(${lib('errors/warn.js')}).warn,
        handle() { throw new Error('postfleet direct route: oclif handle() is not loaded here'); },
      };`,
    ],
    [
      'help/index.js',
      `const util = require(${lib('help/util.js')});
      module.exports = {
        getHelpFlagAdditions: util.getHelpFlagAdditions,
        normalizeArgv: util.normalizeArgv,
        standardizeIDFromArgv: util.standardizeIDFromArgv,
        // Flags.help()'s parse: thrown while the direct route parses, which then hands over to oclif.
        async loadHelpClass() { throw new Error('postfleet direct route: oclif help is not loaded here'); },
      };`,
    ],
    [
      'logger.js',
      `const noop = () => {};
      const logger = { child: () => logger, debug: noop, error: noop, info: noop, namespace: 'oclif', trace: noop, warn: noop };
      module.exports = { getLogger: () => logger, makeDebug: () => noop, setLogger: noop, clearLoggers: noop };`,
    ],
    ['ux/action/spinner.js', `module.exports = require(${lib('ux/action/simple.js')});`],
  ]);
  const ejs = `module.exports = { render() { throw new Error('postfleet direct route: ejs is not loaded here'); } };`;

  return {
    name: 'postfleet-oclif-light',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (!args.importer.startsWith(oclifLib + path.sep)) return undefined;
        if (args.path === 'ejs') return { path: 'ejs', namespace: 'oclif-light' };
        if (!args.path.startsWith('.')) return undefined;
        let target = path.resolve(path.dirname(args.importer), args.path);
        if (!target.endsWith('.js')) target = replacements.has(path.relative(oclifLib, `${target}.js`)) ? `${target}.js` : path.join(target, 'index.js');
        const rel = path.relative(oclifLib, target).split(path.sep).join('/');
        return replacements.has(rel) ? { path: rel, namespace: 'oclif-light' } : undefined;
      });
      // Our own imports: @oclif/core/errors is the replacement for everyone; the help ids for the
      // direct route's runner only. Anything else (the real help, config, run, ...) resolves as
      // usual, and bundle.mjs then leaves that command to the oclif route.
      build.onResolve({ filter: /^@oclif\/core\/(errors|help)$/ }, (args) => {
        const what = args.path.slice('@oclif/core/'.length);
        if (what === 'help' && !/[\\/]dist[\\/]cli[\\/]direct[^\\/]*\.js$/.test(args.importer)) return undefined;
        return { path: `${what}/index.js`, namespace: 'oclif-light' };
      });
      build.onLoad({ filter: /.*/, namespace: 'oclif-light' }, (args) => ({
        contents: args.path === 'ejs' ? ejs : replacements.get(args.path),
        loader: 'js',
        resolveDir: oclifLib,
      }));
    },
  };
}

/** Inputs a direct bundle must not contain (checked by bundle.mjs on the metafile). */
export const NOT_IN_DIRECT =
  /node_modules\/(@oclif\/core\/lib\/(config\/(config|plugin|plugin-loader|ts-path|index)\.js|help\/index\.js|errors\/handle\.js|logger\.js|main\.js|performance\.js|module-loader\.js)|(ejs|debug|minimatch|tinyglobby|lilconfig|cli-spinners)\/)/;
