/**
 * Postfix's text conventions for what showq(8) reports, on byte strings (JavaScript strings
 * whose char codes are the bytes, i.e. latin1-decoded): C strings end at the first NUL,
 * quote_822_local() quotes a local part that is not an RFC 822 dot-string, and printable()
 * turns what is neither printable ASCII nor (with smtputf8_enable) UTF-8 into '?'. The
 * result is then decoded as UTF-8, as a reader of postqueue -j's output decodes it.
 */

/** The C string at the start of `bytes`: up to the first NUL. */
export function cString(bytes: string): string {
  const nul = bytes.indexOf('\0');
  return nul < 0 ? bytes : bytes.slice(0, nul);
}

const isCntrl = (c: number): boolean => c < 0x20 || c === 0x7f;

/** util/printable.c's printable_except() without exceptions (3.7): one pass over the bytes. */
export function printable(bytes: string, utf8: boolean, replacement = '?'): string {
  let out: string[] | undefined;
  let from = 0;
  for (let k = 0; k < bytes.length; k++) {
    const c = bytes.charCodeAt(k);
    if (c >= 0x20 && c < 0x7f) continue;
    if (utf8 && c >= 194 && c <= 254) {
      const next = bytes.charCodeAt(k + 1);
      if (next >= 128 && next < 192) {
        // UTF-8 as printable() sees it: every continuation byte that follows is kept.
        while (k + 1 < bytes.length && bytes.charCodeAt(k + 1) >= 128 && bytes.charCodeAt(k + 1) < 192) k++;
        continue;
      }
    }
    (out ??= []).push(bytes.slice(from, k), replacement);
    from = k + 1;
  }
  if (out === undefined) return bytes;
  out.push(bytes.slice(from));
  return out.join('');
}

/** global/quote_822_local.c: is_822_dot_string() with QUOTE_FLAG_8BITCLEAN. */
function isDotString(s: string, start: number, end: number): boolean {
  if (start === end || s.charCodeAt(start) === 0x2e) return false;
  for (let k = start; k < end; k++) {
    const c = s.charCodeAt(k);
    if (c === 0x2e && k + 1 < end && s.charCodeAt(k + 1) === 0x2e) return false;
    if (c === 0x20 || isCntrl(c)) return false;
    // ( ) < > @ , ; : \ " [ ]
    if (c === 0x28 || c === 0x29 || c === 0x3c || c === 0x3e || c === 0x40 || c === 0x2c || c === 0x3b || c === 0x3a || c === 0x5c || c === 0x22 || c === 0x5b || c === 0x5d) return false;
  }
  return s.charCodeAt(end - 1) !== 0x2e;
}

/**
 * quote_822_local(): the local part (after a source route `@a,@b:`, before the last '@')
 * as an RFC 822 quoted-string unless it is a dot-string; 8-bit bytes are left alone.
 */
export function quote822Local(mbox: string): string {
  let start = 0;
  if (mbox.charCodeAt(0) === 0x40) {
    const colon = mbox.indexOf(':');
    if (colon >= 0) start = colon + 1;
  }
  const at = mbox.lastIndexOf('@');
  const end = at >= start ? at : mbox.length;
  if (isDotString(mbox, start, end)) return mbox;
  let quoted = '"';
  for (let k = start; k < end; k++) {
    const ch = mbox[k]!;
    if (ch === '"' || ch === '\\' || ch === '\r') quoted += '\\';
    quoted += ch;
  }
  return `${mbox.slice(0, start)}${quoted}"${mbox.slice(end)}`;
}

/** A byte string as text: UTF-8 decoded (invalid sequences become U+FFFD, as any UTF-8 reader of postqueue -j's bytes sees them). */
export function decodeBytes(bytes: string): string {
  for (let k = 0; k < bytes.length; k++) if (bytes.charCodeAt(k) > 0x7f) return Buffer.from(bytes, 'latin1').toString('utf8');
  return bytes;
}

/** showq's form of an envelope address: empty -> empty_address_recipient, quoted, printable. */
export function showqAddress(raw: string, utf8: boolean, emptyAddress: string): string {
  const c = cString(raw);
  return printable(quote822Local(c === '' ? emptyAddress : c), utf8);
}

/** C's atol(): leading white space, an optional sign, digits; 0 when there are none (saturating, as strtol). */
export function atol(s: string): number {
  let k = 0;
  let c = s.charCodeAt(0);
  while (c === 0x20 || (c >= 0x09 && c <= 0x0d)) c = s.charCodeAt(++k);
  const sign = c === 0x2d ? -1 : 1;
  if (c === 0x2b || c === 0x2d) c = s.charCodeAt(++k);
  let n = 0;
  while (c >= 0x30 && c <= 0x39) {
    n = n * 10 + (c - 0x30);
    c = s.charCodeAt(++k);
  }
  return sign * Math.min(n, Number.MAX_SAFE_INTEGER);
}
