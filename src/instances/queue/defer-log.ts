/**
 * A message's defer log ($queue_directory/defer/X/ID), read as bounce_log_read() of Postfix
 * 3.7 reads it for showq: entries separated by blank lines (an entry that is not followed by
 * one is not reported), each line made printable first; `name = value` lines (recipient,
 * reason, …) and old-style `<address>: reason` lines; placeholders for what an entry lacks.
 */
import { printable } from './text.js';
import type { DeferredRecipient } from './queue-file.js';

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** util/split_nameval.c: name and value, both trimmed; null where Postfix says "malformed record". */
function splitNameValue(line: string): [string, string] | null {
  let np = 0;
  while (np < line.length && isSpace(line.charCodeAt(np))) np++;
  if (np === line.length || line[np] === '=') return null;
  let ep = np;
  while (ep < line.length && !isSpace(line.charCodeAt(ep)) && line[ep] !== '=') ep++;
  let cp = ep;
  while (cp < line.length && isSpace(line.charCodeAt(cp))) cp++;
  if (line[cp] !== '=') return null;
  let vp = cp + 1;
  while (vp < line.length && isSpace(line.charCodeAt(vp))) vp++;
  let end = line.length;
  while (end > vp && isSpace(line.charCodeAt(end - 1))) end--;
  return [line.slice(np, ep), line.slice(vp, end)];
}

/** The recipients and reasons of a defer log (byte string in, printable byte strings out). */
export function parseDeferLog(bytes: string, utf8: boolean): DeferredRecipient[] {
  const entries: DeferredRecipient[] = [];
  let inEntry = false;
  let address = '';
  let reason = '';
  let from = 0;
  while (from < bytes.length) {
    const nl = bytes.indexOf('\n', from);
    // vstring_get_nonl(): the last line may lack its newline; the C string ends at a NUL.
    let line = nl < 0 ? bytes.slice(from) : bytes.slice(from, nl);
    from = nl < 0 ? bytes.length : nl + 1;
    const nul = line.indexOf('\0');
    if (nul >= 0) line = line.slice(0, nul);
    if (line === '') {
      if (inEntry) {
        entries.push({
          address: address === '' ? '(recipient address unavailable)' : address,
          reason: reason === '' ? '(description unavailable)' : reason,
        });
      }
      inEntry = false;
      address = '';
      reason = '';
      continue;
    }
    line = printable(line, utf8);
    inEntry = true;
    if (isAlnum(line.charCodeAt(0))) {
      const nv = splitNameValue(line);
      if (nv === null) continue;
      const [name, value] = nv;
      if (name === 'recipient') address = value === '' ? '(MAILER-DAEMON)' : value;
      else if (name === 'reason') reason = value;
      continue;
    }
    if (line[0] !== '<') continue;
    const close = line.indexOf('>: ', 1);
    if (close < 0) continue;
    const recipient = line.slice(1, close);
    address = recipient === '' ? '(MAILER-DAEMON)' : recipient;
    let text = close + 2;
    while (text < line.length && isSpace(line.charCodeAt(text))) text++;
    reason = line.slice(text);
  }
  return entries;
}
