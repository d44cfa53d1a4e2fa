// esbuild plugin for every bundle (bundle.mjs): what a command loads at start-up but seldom uses
// is loaded on first use instead.
//
// - The built-in modules that no command needs before it has started its work (child_process,
//   crypto, readline, ...) are loaded when one of their exports is first read, and required
//   rather than imported: an ESM `import ... from 'node:crypto'` makes Node build the module's
//   ESM facade, which reads every export (crypto's webcrypto, KeyObject, ...). The other
//   built-ins (fs, path, url, util, ...) are mostly loaded with Node itself: left as they are,
//   since every stand-in is a module of its own, which code splitting can make a file of its own.
// - A few packages that @oclif/core and the error printing require() at load time but use only
//   to lay out an error or help text (wrap-ansi pulls in ansi-styles, color-convert, string-width
//   and emoji-regex) are loaded when first called.
//
// The stand-ins forward every export (their names are read from the real module at build time,
// in this process), so code that uses the module sees the same values; only identity differs
// (`require('node:crypto') === stand-in` is false), which nothing here relies on.
import { createRequire, isBuiltin } from 'node:module';

const LAZY_BUILTINS = new Set(['child_process', 'crypto', 'fs/promises', 'readline', 'readline/promises', 'worker_threads', 'zlib', 'dgram', 'http', 'https', 'http2', 'perf_hooks', 'v8', 'vm', 'dns', 'tls']);
const LAZY_PACKAGES = new Set(['wrap-ansi', 'clean-stack', 'indent-string', 'wordwrap', 'string-width', 'widest-line']);

const lazyObject = (load, keys) =>
  `let m;\nconst load = () => (m ??= ${load});\nconst stand = {};\n` +
  `for (const k of ${JSON.stringify(keys)}) Object.defineProperty(stand, k, { get: () => load()[k], enumerable: true });\n` +
  'module.exports = stand;\n';

const lazyFunction = (load, keys) =>
  `let m;\nconst load = () => (m ??= ${load});\n` +
  'function stand(...args) { return new.target ? Reflect.construct(load(), args, new.target) : load().apply(this, args); }\n' +
  `for (const k of ${JSON.stringify(keys)}) Object.defineProperty(stand, k, { get: () => load()[k], enumerable: true });\n` +
  'module.exports = stand;\n';

/** @param {string} root the package root (node_modules is looked up from there) */
export function lazyModules(root) {
  const requireHere = createRequire(`${root}/package.json`);
  return {
    name: 'postfleet-lazy-modules',
    setup(build) {
      build.onResolve({ filter: /^[a-z_:/0-9]+$/ }, (args) => {
        if (args.namespace === 'lazy-module') return undefined;
        const name = args.path.replace(/^node:/, '');
        if (!isBuiltin(args.path) || !LAZY_BUILTINS.has(name)) return undefined;
        return { path: name, namespace: 'lazy-module', pluginData: { builtin: true } };
      });
      build.onResolve({ filter: /^(wrap-ansi|clean-stack|indent-string|wordwrap|string-width|widest-line)$/ }, async (args) => {
        // Only CommonJS require() calls (@oclif/core's): an ESM import of such a package (listr2's
        // of wrap-ansi 9, an ES module) is left to esbuild, whose interop gives it the default export.
        if (args.pluginData === 'real' || args.kind !== 'require-call' || !LAZY_PACKAGES.has(args.path)) return undefined;
        const real = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'real' });
        if (real.errors.length > 0) return { errors: real.errors };
        return { path: real.path, namespace: 'lazy-module', pluginData: { package: true } };
      });
      build.onLoad({ filter: /.*/, namespace: 'lazy-module' }, (args) => {
        if (args.pluginData?.builtin) {
          const id = `node:${args.path}`;
          return { contents: lazyObject(`require(${JSON.stringify(id)})`, Object.keys(requireHere(id))), loader: 'js' };
        }
        const real = requireHere(args.path);
        const load = `require(${JSON.stringify(args.path)})`;
        const contents = typeof real === 'function' && !real.__esModule ? lazyFunction(load, Object.keys(real)) : `module.exports = ${load};\n`;
        return { contents, loader: 'js', resolveDir: root };
      });
    },
  };
}

/**
 * For a build with one entry: every module the entry loads at start-up lands in one chunk.
 * esbuild splits what an entry and its lazily imported modules (import()) share into chunks by
 * which of them reach each module, so an entry whose lazy parts share different bits of it
 * starts by loading many small files (compat/main.js: 8). Each lazily imported module is
 * reached through a stand-in that also imports the entry: then all that the entry loads is
 * reached from the same places, and is one chunk. The stand-in re-exports the module as is.
 *
 * @param {string} entry the build's entry module (as an import specifier)
 * @param {string} ownCode the directory of our own compiled code (dist/): only imports from there are anchored
 */
export function anchorLazyImports(entry, ownCode) {
  return {
    name: 'postfleet-anchor-lazy-imports',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        // Only our own lazy imports: packages' own import()s stay as they are.
        if (args.kind !== 'dynamic-import' || args.pluginData === 'anchored' || !args.importer.startsWith(ownCode)) return undefined;
        const real = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'anchored' });
        if (real.errors.length > 0 || real.external || real.namespace !== 'file') return undefined;
        return { path: real.path, namespace: 'anchored' };
      });
      build.onLoad({ filter: /.*/, namespace: 'anchored' }, async (args) => {
        const { readFile } = await import('node:fs/promises');
        const source = await readFile(args.path, 'utf8');
        const hasDefault = /\bexport\s+default\b|\bexport\s*\{[^}]*\bdefault\b/.test(source) || /module\.exports|exports\./.test(source);
        return {
          contents: [`import ${JSON.stringify(entry)};`, `export * from ${JSON.stringify(args.path)};`, ...(hasDefault ? [`export { default } from ${JSON.stringify(args.path)};`] : [])].join('\n'),
          loader: 'js',
          resolveDir: '/',
        };
      });
    },
  };
}
