/**
 * main.cf reader, byte-for-byte the way Postfix 3.7 loads it
 * (dict_load_fp() = readllines() + split_nameval(), later settings win).
 * Pure: no file system here, see defaults.ts for readMainCf().
 *
 * Rules found in the Postfix sources (util/readlline.c, util/split_nameval.c,
 * util/dict.c) and confirmed against the real postconf:
 *  - A physical line whose first non-white-space character is `#`, and a
 *    white-space-only or empty line, is dropped wherever it occurs, also in
 *    the middle of a continuation; so a comment never ends a logical line.
 *  - A line starting with white space continues the previous logical line.
 *    The pieces are glued together as they are: the newline goes, the
 *    continuation's own leading white space stays ("a = b\n\tc" is "b\tc").
 *  - A logical line that starts with white space (only possible before the
 *    first setting) is dropped with a warning by Postfix, together with
 *    its continuations; it is not an error.
 *  - The logical line is a C string from then on: text after a NUL byte is
 *    ignored.
 *  - A logical line that is not `name = value` is FATAL for every Postfix
 *    program (postconf included): nothing in that main.cf can be read, so
 *    we throw instead of skipping the line.
 *  - Name: up to white space or `=`; value: after `=`, leading and trailing
 *    white space trimmed; `=` needs no white space around it; empty values
 *    are allowed. White space is C isspace() in the ASCII range, so a CR
 *    of a CRLF file is white space (trimmed at the end of a value, kept
 *    inside a continued one).
 */
import { PostfleetError } from '../errors.js';

/** Postfix ISSPACE(): ASCII isspace() in the C locale. */
export function isCSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\v' || ch === '\f';
}

export interface LogicalLine {
  /** The joined text, as readllines() returns it. */
  readonly text: string;
  /** 1-based number of the physical line that starts it (Postfix reports this one). */
  readonly line: number;
}

/** ISSPACE() on a UTF-16 code unit: space, \t, \n, \v, \f, \r. */
function isSpaceCode(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * readllines(): splits main.cf text into logical lines. Logical lines that
 * start with white space are left out, as Postfix skips them.
 *
 * Scans with indexOf rather than split('\n'): a stock main.cf is mostly
 * comments, and listing a thousand instances should not make a string of
 * every comment line only to throw it away.
 */
export function readLogicalLines(text: string): LogicalLine[] {
  const result: LogicalLine[] = [];
  let pieces: string[] | undefined;
  let startLine = 0;
  const flush = (): void => {
    if (pieces === undefined) return;
    const joined = pieces.length === 1 ? pieces[0]! : pieces.join('');
    if (!isSpaceCode(joined.charCodeAt(0))) result.push({ text: joined, line: startLine });
    pieces = undefined;
  };
  const n = text.length;
  let lineNo = 0;
  for (let pos = 0; pos <= n; ) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = n;
    lineNo++;
    let i = pos;
    while (i < nl && isSpaceCode(text.charCodeAt(i))) i++;
    // Comment and blank lines are dropped wherever they are.
    if (i < nl && text.charCodeAt(i) !== 35 /* # */) {
      const piece = text.slice(pos, nl);
      if (i > pos && pieces !== undefined) {
        pieces.push(piece);
      } else {
        // Either a new setting, or white-space-led text with nothing to
        // continue: the latter still swallows its own continuations before
        // being dropped.
        flush();
        pieces = [piece];
        startLine = lineNo;
      }
    }
    pos = nl + 1;
  }
  flush();
  return result;
}

export type NameValue = { readonly name: string; readonly value: string } | { readonly error: string };

/** split_nameval(): "name = value" or "name =", else Postfix's error text. */
export function splitNameValue(logical: string): NameValue {
  const s = cString(logical);
  let np = 0;
  while (np < s.length && isCSpace(s[np])) np++;
  if (np === s.length || s[np] === '=') return { error: 'missing attribute name' };
  let ep = np;
  while (ep < s.length && !isCSpace(s[ep]) && s[ep] !== '=') ep++;
  let cp = ep;
  while (cp < s.length && isCSpace(s[cp])) cp++;
  if (s[cp] !== '=') return { error: "missing '=' after attribute name" };
  let vp = cp + 1;
  while (vp < s.length && isCSpace(s[vp])) vp++;
  let end = s.length;
  while (end > vp && isCSpace(s[end - 1])) end--;
  return { name: s.slice(np, ep), value: s.slice(vp, end) };
}

function cString(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

/**
 * The raw (unexpanded) value of every parameter set in main.cf text, later
 * settings winning. `source` only names the file in error messages, which
 * follow Postfix's own wording.
 */
export function parseMainCf(text: string, source = 'main.cf'): Map<string, string> {
  const settings = new Map<string, string>();
  for (const logical of readLogicalLines(text)) {
    const nv = splitNameValue(logical.text);
    if ('error' in nv) {
      const shown = cString(logical.text);
      throw new PostfleetError(`${source}, line ${logical.line}: ${nv.error}: "${shown}"`, { value: shown });
    }
    settings.set(nv.name, nv.value);
  }
  return settings;
}
