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

export interface LogicalLine {
  /** The joined text, as readllines() returns it. */
  readonly text: string;
  /** 1-based number of the physical line that starts it (Postfix reports this one). */
  readonly line: number;
}

/** ISSPACE() on a byte: space, \t, \n, \v, \f, \r. */
function isSpaceByte(c: number | undefined): boolean {
  return c === 32 || (c !== undefined && c >= 9 && c <= 13);
}

/**
 * readllines() over main.cf bytes: calls `visit` with each logical line that
 * starts a setting (those starting with white space are left out, as Postfix
 * skips them) as bytes `line[start, end)`, and the file offset where it
 * starts. A line is cut at a NUL byte, as Postfix's C strings are.
 *
 * Works on the bytes, never on the whole file as a string: a stock main.cf
 * is 27 KB of almost nothing but comments, and listing a thousand instances
 * should neither decode 27 MB of text nor make a string of every comment
 * line only to throw it away. White space, `#`, `=`, NUL and newline are
 * single bytes that never occur inside a UTF-8 sequence, so this is exact.
 * A one-line setting is passed as a range of the file's bytes; only a
 * continued one is copied together.
 */
export function scanLogicalLines(bytes: Buffer, visit: (line: Buffer, start: number, end: number, offset: number) => void): void {
  const hasNul = bytes.indexOf(0) >= 0;
  let first = -1;
  let firstEnd = 0;
  let more: number[] | undefined;
  const flush = (): void => {
    if (first < 0 || isSpaceByte(bytes[first])) {
      first = -1;
      more = undefined;
      return;
    }
    let line = bytes;
    let start = first;
    let end = firstEnd;
    if (more !== undefined || hasNul) {
      const parts = [bytes.subarray(first, firstEnd)];
      for (let k = 0; more !== undefined && k < more.length; k += 2) parts.push(bytes.subarray(more[k], more[k + 1]));
      line = Buffer.concat(parts);
      start = 0;
      const nul = line.indexOf(0);
      end = nul >= 0 ? nul : line.length;
    }
    const offset = first;
    first = -1;
    more = undefined;
    visit(line, start, end, offset);
  };
  const n = bytes.length;
  for (let pos = skipCommentLines(bytes, 0, n); pos < n; pos = skipCommentLines(bytes, pos, n)) {
    let nl = bytes.indexOf(10, pos);
    if (nl < 0) nl = n;
    let i = pos;
    while (i < nl && isSpaceByte(bytes[i])) i++;
    // Comment and blank lines are dropped wherever they are.
    if (i < nl && bytes[i] !== 35) {
      if (i > pos && first >= 0) {
        (more ??= []).push(pos, nl);
      } else {
        // Either a new setting, or white-space-led text with nothing to
        // continue: the latter still swallows its own continuations before
        // being dropped.
        flush();
        first = pos;
        firstEnd = nl;
      }
    }
    pos = nl + 1;
  }
  flush();
}

/**
 * The start of the next line at or after `pos` that does not begin with `#`
 * or end at once: nearly every line of a stock main.cf is skipped here. A
 * function of its own, and a tiny one, so that V8 optimises it within the
 * first few files instead of after most of a listing.
 */
function skipCommentLines(bytes: Buffer, pos: number, n: number): number {
  while (pos < n) {
    const c = bytes[pos];
    if (c !== 35 /* # */ && c !== 10) return pos;
    const nl = bytes.indexOf(10, pos);
    if (nl < 0) return n;
    pos = nl + 1;
  }
  return n;
}

/** 1-based number of the physical line that contains byte `offset`. */
function lineNumberAt(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = bytes.indexOf(10); i >= 0 && i < offset; i = bytes.indexOf(10, i + 1)) line++;
  return line;
}

/** readllines(): the logical lines of main.cf text, with their line numbers. */
export function readLogicalLines(text: string): LogicalLine[] {
  const bytes = Buffer.from(text, 'utf8');
  const result: LogicalLine[] = [];
  scanLogicalLines(bytes, (line, start, end, offset) =>
    result.push({ text: line.toString('utf8', start, end), line: lineNumberAt(bytes, offset) }),
  );
  return result;
}

export type NameValue = { readonly name: string; readonly value: string } | { readonly error: string };

/** split_nameval(): "name = value" or "name =", else Postfix's error text. */
export function splitNameValue(logical: string): NameValue {
  const bytes = Buffer.from(cString(logical), 'utf8');
  return splitNameValueBytes(bytes, 0, bytes.length);
}

/** splitNameValue() on `line[start, end)`, which holds no NUL. */
function splitNameValueBytes(line: Buffer, start: number, end: number): NameValue {
  let np = start;
  while (np < end && isSpaceByte(line[np])) np++;
  if (np === end || line[np] === 61 /* = */) return { error: 'missing attribute name' };
  let ep = np;
  while (ep < end && !isSpaceByte(line[ep]) && line[ep] !== 61) ep++;
  let cp = ep;
  while (cp < end && isSpaceByte(line[cp])) cp++;
  if (cp === end || line[cp] !== 61) return { error: "missing '=' after attribute name" };
  let vp = cp + 1;
  while (vp < end && isSpaceByte(line[vp])) vp++;
  let ve = end;
  while (ve > vp && isSpaceByte(line[ve - 1])) ve--;
  return { name: line.toString('utf8', np, ep), value: line.toString('utf8', vp, ve) };
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
  return parseMainCfBytes(Buffer.from(text, 'utf8'), source);
}

/** parseMainCf() over a file's bytes (see readMainCf()). */
export function parseMainCfBytes(bytes: Buffer, source: string): Map<string, string> {
  const settings = new Map<string, string>();
  scanLogicalLines(bytes, (line, start, end, offset) => {
    const nv = splitNameValueBytes(line, start, end);
    if ('error' in nv) {
      const shown = line.toString('utf8', start, end);
      throw new PostfleetError(`${source}, line ${lineNumberAt(bytes, offset)}: ${nv.error}: "${shown}"`);
    }
    settings.set(nv.name, nv.value);
  });
  return settings;
}
