/**
 * A byte-faithful re-implementation of postconf's main.cf editor
 * (pcf_edit_main() in postfix/src/postconf/postconf_edit.c), so that a file
 * edited by postfleet is exactly the file `postconf -e`, `postconf -X` or
 * `postconf -#` would have produced, and an administrator's diff shows only
 * the settings that changed.
 *
 * Each edit behaves like one postconf invocation with that one argument:
 *
 *   set      postconf -e 'name = value'
 *   remove   postconf -X name
 *   comment  postconf -# name
 *
 * A postconf call with several new settings appends them in hash-table order
 * (Postfix 3.7; later versions sort them); applying them one at a time, as
 * here, appends them in the order given and is otherwise identical.
 */
import { PostfleetError } from '../errors.js';

export type MainCfEdit =
  | { op: 'set'; name: string; value: string }
  | { op: 'remove'; name: string }
  | { op: 'comment'; name: string };

/*
 * Postfix's ISSPACE (C-locale isspace restricted to ASCII) decides what a
 * blank, comment or continuation line is; CHARS_SPACE plus '=' ends the
 * parameter name at the start of a setting. They differ: a line that starts
 * with \v or \f continues the previous setting, yet \v inside a name does not
 * end it.
 */
const ISSPACE = new Set([' ', '\t', '\n', '\v', '\f', '\r']);
const NAME_END = new Set([' ', '\t', '\r', '\n', '=']);

/*
 * postconf itself accepts any name without white space or '='. We accept
 * only what Postfix's own parameters, and per-service parameters derived from
 * master.cf names such as "smtp-amavis_destination_recipient_limit", use: a
 * leading '-' would read as an option to postconf, and '$', '#', '/' and
 * friends only ever come from typos or hostile input.
 */
const VALID_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/** A parameter name postfleet writes (see VALID_NAME). */
export function isParameterName(name: string): boolean {
  return VALID_NAME.test(name);
}

/** Apply the edits in order, each with the exact semantics of its postconf counterpart. */
export function editMainCf(text: string, edits: readonly MainCfEdit[]): string {
  checkMainCfEdits(edits);
  let lines = toPostconfLines(text);
  for (const edit of edits) {
    lines = applyEdit(lines, edit);
  }
  return lines.join('');
}

/**
 * Refuse what postconf would refuse or what would not survive as one line,
 * before anything is read or locked.
 */
export function checkMainCfEdits(edits: readonly MainCfEdit[]): void {
  for (const edit of edits) {
    if (!VALID_NAME.test(edit.name)) {
      throw new PostfleetError(
        `invalid main.cf parameter name "${printable(edit.name)}": use letters, digits, "_" and "-" (not first)`,
      );
    }
    if (edit.op === 'set' && /[\n\0]/.test(edit.value)) {
      // postconf: "-e, -X, or -# accepts no multi-line input"; a NUL could
      // not even be passed to it in argv.
      throw new PostfleetError(
        `invalid value for main.cf parameter ${edit.name}: "${printable(edit.value)}" contains a newline or NUL; main.cf values are single-line`,
      );
    }
  }
}

/**
 * The value postconf writes for `-e 'name = value'`: split_nameval() strips
 * leading and trailing ISSPACE and keeps interior white space as it is.
 */
export function normalizeMainCfValue(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && ISSPACE.has(value.charAt(start))) start++;
  while (end > start && ISSPACE.has(value.charAt(end - 1))) end--;
  return value.slice(start, end);
}

/**
 * NAME=VALUE, read one way wherever postfleet takes a setting (config set, create --set, the
 * manifest's `key = value` lines): as `postconf -e` reads its argument, split_nameval() in
 * Postfix's util/split_nameval.c. White space before the name is skipped; the name runs up to
 * white space or '='; white space may stand before the '='; the value is the rest, without
 * white space at either end. So `  relayhost =  [r]:587 ` is relayhost and `[r]:587`, while
 * `a b=c` has no '=' after its name and `=x` no name (postconf: "missing '=' after attribute
 * name", "missing attribute name"). Undefined where postconf would refuse the split.
 */
export function splitNameValue(text: string): { readonly name: string; readonly value: string } | undefined {
  let i = 0;
  while (i < text.length && ISSPACE.has(text.charAt(i))) i++;
  const start = i;
  while (i < text.length && !ISSPACE.has(text.charAt(i)) && text.charAt(i) !== '=') i++;
  const name = text.slice(start, i);
  while (i < text.length && ISSPACE.has(text.charAt(i))) i++;
  if (name === '' || text.charAt(i) !== '=') return undefined;
  return { name, value: normalizeMainCfValue(text.slice(i + 1)) };
}

/**
 * A NAME=VALUE setting (config set, create --set): split as postconf -e splits it, the name a
 * parameter name (isParameterName()), the value one that checkSettingValue() lets through.
 * `what` says where it was given (`--set`), for the message.
 */
export function parseSetting(text: string, what?: string): [string, string] {
  const at = what === undefined ? '' : `${what}: `;
  const setting = splitNameValue(text);
  if (setting === undefined) throw new PostfleetError(`${at}expected NAME=VALUE: '${text}'`);
  if (!isParameterName(setting.name)) throw new PostfleetError(`${at}bad parameter name in '${text}'`);
  checkSettingValue(setting.name, setting.value, what);
  return [setting.name, setting.value];
}

/**
 * postconf -e refuses a value with a newline ("accepts no multi-line input"); postfleet refuses
 * every control character, a tab or a carriage return too: main.cf would hold what nobody sees.
 */
export function checkSettingValue(name: string, value: string, what?: string): void {
  const at = what === undefined ? '' : `${what}: `;
  // eslint-disable-next-line no-control-regex -- control characters are what it refuses
  if (/[\x00-\x1f\x7f]/.test(value)) throw new PostfleetError(`${at}${name}: the value may not contain a line break or another control character`);
}

/**
 * The lines as pcf_edit_main() sees them: vstring_get() splits after each
 * '\n', pcf_next_cf_line() gives an unterminated last line a '\n', and every
 * line is then handled as a C string, so it ends at its first NUL (losing its
 * '\n'). '\r' is an ordinary byte: a CRLF line's content ends in '\r'.
 *
 * Postfix 3.7 (Debian 12) predates that terminating '\n' and glues a setting
 * appended after an unterminated last line onto it ("b = 2c = 3"), breaking
 * both; we follow current Postfix instead.
 */
function toPostconfLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const raw = nl < 0 ? `${text.slice(start)}\n` : text.slice(start, nl + 1);
    const nul = raw.indexOf('\0');
    lines.push(nul < 0 ? raw : raw.slice(0, nul));
    start = nl < 0 ? text.length : nl + 1;
  }
  return lines;
}

type LineKind = 'passive' | 'continuation' | 'start';

/*
 * pcf_find_cf_info(): a line whose first non-ISSPACE character is '#', or
 * that has none, is passed through untouched wherever it is, even between
 * the continuation lines of a setting. Any other line that starts with white
 * space continues the current setting; the rest start a new one.
 */
function classify(line: string): LineKind {
  let i = 0;
  while (i < line.length && ISSPACE.has(line.charAt(i))) i++;
  if (i === line.length || line.charAt(i) === '#') return 'passive';
  return i > 0 ? 'continuation' : 'start';
}

function settingName(line: string): string {
  let end = 0;
  while (end < line.length && !NAME_END.has(line.charAt(end))) end++;
  return line.slice(0, end);
}

function applyEdit(lines: readonly string[], edit: MainCfEdit): string[] {
  const out: string[] = [];
  let found = false;
  // Whether the setting being copied is the one edited; postconf keeps this
  // across comment and blank lines, so a continuation after them is dropped
  // or commented too.
  let inTarget = false;
  for (const line of lines) {
    const kind = classify(line);
    if (kind === 'passive') {
      out.push(line);
    } else if (kind === 'continuation') {
      if (!inTarget) out.push(line);
      else if (edit.op === 'comment') out.push(`#${line}`);
      // set and remove drop the continuation of the setting they replace.
    } else {
      const name = settingName(line);
      inTarget = name === edit.name;
      if (!inTarget) {
        out.push(line);
        continue;
      }
      // Every duplicate is edited, not just the first (postconf warns
      // "multiple entries" and carries on).
      found = true;
      if (edit.op === 'set') out.push(`${name} = ${normalizeMainCfValue(edit.value)}\n`);
      else if (edit.op === 'comment') out.push(`#${line}`);
    }
  }
  if (edit.op === 'set' && !found) {
    out.push(`${edit.name} = ${normalizeMainCfValue(edit.value)}\n`);
  }
  return out;
}

function printable(s: string): string {
  // eslint-disable-next-line no-control-regex -- the control characters are what it shows
  return s.replace(/[\0-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
