/**
 * Instance templates, filled: a template's main.cf settings with its {{variables}} from
 * `--set NAME=VALUE` (or a manifest's set.NAME), and the values that are no variable as main.cf
 * parameters of their own. Pure: load.ts reads the templates.
 */
import { PostfleetError } from '../errors.js';
import { parseSetting } from '../maincf/edit.js';
import { parseMainCf } from '../maincf/parse.js';

export interface Template {
  readonly name: string;
  readonly directory: string;
  readonly description: string;
  /** variable name -> what it is for */
  readonly variables: ReadonlyMap<string, string>;
  readonly mainCf: string;
  readonly masterCf: string | undefined;
}

export interface RenderedTemplate {
  readonly settings: ReadonlyArray<readonly [string, string]>;
  readonly masterCf: string | undefined;
}

/**
 * Fills the template's variables from `set`; the `set` entries that are not
 * variables are main.cf parameters of their own, appended after the
 * template's. Pure.
 */
export function renderTemplate(t: Template | undefined, set: ReadonlyArray<readonly [string, string]>): RenderedTemplate {
  const values = new Map(set);
  const fill = (text: string): string =>
    text.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_m, v: string) => {
      const value = values.get(v);
      if (value === undefined) {
        const what = t?.variables.get(v);
        throw new PostfleetError(`template '${t?.name}' needs --set ${v}=VALUE${what ? ` (${what})` : ''}`);
      }
      return value;
    });
  const settings: Array<[string, string]> = [];
  if (t) {
    for (const v of t.variables.keys()) {
      if (!values.has(v)) throw new PostfleetError(`template '${t.name}' needs --set ${v}=VALUE (${t.variables.get(v)})`);
    }
    for (const [name, value] of parseMainCf(fill(t.mainCf))) settings.push([name, value]);
  }
  for (const [name, value] of set) {
    if (t?.variables.has(name)) continue;
    settings.push([name, value]);
  }
  return { settings, masterCf: t?.masterCf === undefined ? undefined : fill(t.masterCf) };
}

/** `--set NAME=VALUE` arguments (parseSetting()). */
export function parseSetArguments(args: readonly string[]): Array<[string, string]> {
  return args.map((a) => parseSetting(a, '--set'));
}
