/**
 * The planners are pure: they take what was read (a snapshot, a manifest, argv) and return data,
 * so that --dry-run, apply and Ansible's check mode show exactly what a run would do, and so
 * that they are tested without root, Postfix or a disk. This test reads the import graph of
 * src/ (with TypeScript's parser) and fails when a module of PURE reaches, through any chain of
 * imports, one of FORBIDDEN: the file system, a process, a terminal.
 *
 * Type-only imports (`import type`, `import { type X }`) do not count: they are erased. Dynamic
 * import()s and re-exports (`export … from`) count. To declare a new pure module, add its path.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/sandbox.js';

/** Modules (paths under src/) that must not reach FORBIDDEN, transitively. */
const PURE = [
  // the life-cycle planners and their vocabulary
  'instances/lifecycle/build.ts',
  'instances/lifecycle/removal.ts',
  'instances/lifecycle/settings.ts',
  'instances/lifecycle/instance-list.ts',
  'instances/lifecycle/plan.ts',
  'instances/lifecycle/apply.ts',
  'instances/lifecycle/config-edit.ts',
  'instances/lifecycle/manifest.ts',
  'instances/lifecycle/steps.ts',
  'instances/lifecycle/report.ts',
  'instances/lifecycle/unified-diff.ts',
  'instances/lifecycle/names.ts',
  'instances/lifecycle/reserved.ts',
  // postmulti's argv and selection
  'compat/parse.ts',
  'instances/selection.ts',
  // main.cf text: parsing, expansion, the postconf editor
  'instances/maincf/parse.ts',
  'instances/maincf/expand.ts',
  'instances/maincf/edit.ts',
  // systemd: unit names, what the generator writes, what each control verb does
  'systemd/units.ts',
  'systemd/escape.ts',
  'systemd/control.ts',
  // the queues: what a filter selects, the summary's rows, an action's plan
  'instances/queue/filters.ts',
  'instances/queue/summary.ts',
  'instances/queue/actions.ts',
];

/** What a pure module may not load: files, processes, terminals. */
const FORBIDDEN = new Set([
  'fs',
  'node:fs',
  'fs/promises',
  'node:fs/promises',
  'child_process',
  'node:child_process',
  'execa',
  '@lydell/node-pty',
]);

const SRC = path.join(REPO_ROOT, 'src');

/** The modules a source file loads when it runs: value imports, re-exports and dynamic import()s. */
function importsOf(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) found.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly = node.isTypeOnly || (node.exportClause !== undefined && ts.isNamedExports(node.exportClause) && node.exportClause.elements.every((e) => e.isTypeOnly));
      if (!typeOnly) found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** A relative import's source file ('./x.js' is ./x.ts); undefined for a package. */
function resolve(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return path.resolve(path.dirname(from), specifier).replace(/\.js$/, '.ts');
}

/** Each forbidden module the file reaches, with the chain of imports that leads to it. */
function forbiddenReach(start: string): string[] {
  const chains: string[] = [];
  const seen = new Set<string>();
  const walk = (file: string, chain: readonly string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of importsOf(file)) {
      const target = resolve(file, specifier);
      if (target !== undefined) walk(target, [...chain, path.relative(SRC, target)]);
      else if (FORBIDDEN.has(specifier)) chains.push([...chain, specifier].join(' -> '));
    }
  };
  walk(path.join(SRC, start), [start]);
  return chains;
}

describe('pure modules reach no file system, process or terminal', () => {
  it.each(PURE)('%s', (module) => {
    expect(forbiddenReach(module)).toEqual([]);
  });

  it('sees an import it must refuse', () => {
    // The graph is read at all: the executor is the module that does the work.
    expect(forbiddenReach('instances/lifecycle/execute.ts').length).toBeGreaterThan(0);
    expect(forbiddenReach('instances/lifecycle/transaction.ts').join('\n')).toMatch(/execute\.ts -> (node:fs|execa)/);
  });
});
