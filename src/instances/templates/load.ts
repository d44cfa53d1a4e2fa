/**
 * Instance templates on disk: a directory per template with
 *   template.ini  description, and [variables] name = what to give
 *   main.cf       settings laid over the stock main.cf.proto; {{variable}} placeholders
 *   master.cf     optional; replaces master.cf.proto when present
 * Built-in templates ship in the package's templates/ directory; an operator
 * may name more directories, searched first. render.ts fills them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decode as decodeIni } from 'ini';
import { PostfleetError } from '../errors.js';
import { fsError } from '../files.js';
import type { Template } from './render.js';

const BUILTIN_TEMPLATE_DIR = fileURLToPath(new URL('../../../templates', import.meta.url));

const TEMPLATE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function templateSearchPath(extraDirs: readonly string[] = []): string[] {
  return [...extraDirs, BUILTIN_TEMPLATE_DIR];
}

export function listTemplates(searchPath: readonly string[]): Template[] {
  const seen = new Map<string, Template>();
  for (const dir of searchPath) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (e) {
      throw fsError('read template directory', dir, e);
    }
    for (const name of names) {
      if (!seen.has(name) && existsSync(`${dir}/${name}/main.cf`)) seen.set(name, readTemplate(name, `${dir}/${name}`));
    }
  }
  return [...seen.values()];
}

export function loadTemplate(name: string, searchPath: readonly string[]): Template {
  if (!TEMPLATE_NAME.test(name)) throw new PostfleetError(`invalid template name '${name}'`);
  for (const dir of searchPath) {
    if (existsSync(`${dir}/${name}/main.cf`)) return readTemplate(name, `${dir}/${name}`);
  }
  const known = listTemplates(searchPath).map((t) => t.name);
  throw new PostfleetError(`unknown template '${name}' (available: ${known.join(', ') || 'none'})`);
}

function readTemplate(name: string, directory: string): Template {
  const ini = existsSync(`${directory}/template.ini`) ? decodeIni(readFileSync(`${directory}/template.ini`, 'utf8')) : {};
  const vars = (ini['variables'] ?? {}) as Record<string, unknown>;
  return {
    name,
    directory,
    description: typeof ini['description'] === 'string' ? ini['description'] : '',
    variables: new Map(Object.entries(vars).map(([k, v]) => [k, String(v)])),
    mainCf: readFileSync(`${directory}/main.cf`, 'utf8'),
    masterCf: existsSync(`${directory}/master.cf`) ? readFileSync(`${directory}/master.cf`, 'utf8') : undefined,
  };
}

