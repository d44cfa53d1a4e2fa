/**
 * systemd's unit name escaping, as `systemd-escape` and `systemd-escape --path` do it
 * (unit_name_escape() and unit_name_path_escape() in systemd's src/basic/unit-name.c),
 * natively: the generator names every instance's unit without a process per instance.
 */

/** Characters kept as they are; every other byte becomes `\xNN` ('/' becomes '-'). */
const KEPT = /^[A-Za-z0-9:_.]$/;

function escapeByte(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}

/** `systemd-escape STRING`: '/' to '-', a leading '.' and anything but [A-Za-z0-9:_.] to \xNN (UTF-8 bytes). */
export function systemdEscape(value: string): string {
  let out = '';
  let first = true;
  for (const ch of value) {
    if (ch === '/') out += '-';
    else if ((first && ch === '.') || !KEPT.test(ch)) for (const b of Buffer.from(ch, 'utf8')) out += escapeByte(b);
    else out += ch;
    first = false;
  }
  return out;
}

/**
 * path_simplify(): duplicate slashes, `.` components and a trailing slash dropped.
 * `..` is kept (it makes the path not normalized, refused by systemdEscapePath()).
 */
function simplifyPath(p: string): string {
  const absolute = p.startsWith('/');
  const parts = p.split('/').filter((c) => c !== '' && c !== '.');
  const joined = parts.join('/');
  if (absolute) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/**
 * `systemd-escape --path PATH`: the simplified path without its leading '/', escaped;
 * '/' (and '') is '-'. undefined for what systemd refuses (a `..` component, '.').
 */
export function systemdEscapePath(p: string): string | undefined {
  if (p === '') return '-';
  const simple = simplifyPath(p);
  if (simple === '/') return '-';
  if (simple.split('/').includes('..')) return undefined;
  const relative = simple.startsWith('/') ? simple.slice(1) : simple;
  if (relative === '.') return undefined;
  return systemdEscape(relative);
}
