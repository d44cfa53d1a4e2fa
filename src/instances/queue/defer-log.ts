/**
 * A message's defer log ($queue_directory/defer/X/ID), read as bounce_log_read() of Postfix
 * 3.7 reads it for showq: entries separated by blank lines (an entry that is not followed by
 * one is not reported), each line made printable first; `name = value` lines (recipient,
 * reason, …) and old-style `<address>: reason` lines; placeholders for what an entry lacks.
 *
 * printable() replaces each byte it rejects by one '?' and never makes a space, '=', '<', '>'
 * or ':', so a line is parsed as it is, with only ' ' as white space (every other white-space
 * byte would have become '?'), and only the values kept are made printable.
 */
import { printable } from './text.js';
import type { DeferredRecipient } from './queue-file.js';

const SP = 0x20;
const isAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** The recipients and reasons of a defer log (byte string in, printable byte strings out). */
export function parseDeferLog(bytes: string, utf8: boolean): DeferredRecipient[] {
  const entries: DeferredRecipient[] = [];
  let inEntry = false;
  let address = '';
  let reason = '';
  let from = 0;
  let nul = bytes.indexOf('\0');
  while (from < bytes.length) {
    const nl = bytes.indexOf('\n', from);
    const lineEnd = nl < 0 ? bytes.length : nl;
    // vstring_get_nonl(): the last line may lack its newline; a line ends at a NUL (C string).
    if (nul >= 0 && nul < from) nul = bytes.indexOf('\0', from);
    const end = nul >= 0 && nul < lineEnd ? nul : lineEnd;
    const start = from;
    from = lineEnd + 1;
    if (end === start) {
      if (inEntry) {
        entries.push({
          address: address === '' ? '(recipient address unavailable)' : printable(address, utf8),
          reason: reason === '' ? '(description unavailable)' : printable(reason, utf8),
        });
      }
      inEntry = false;
      address = '';
      reason = '';
      continue;
    }
    inEntry = true;
    const first = bytes.charCodeAt(start);
    if (isAlnum(first)) {
      // split_nameval(): name up to white space or '=', then '=', the value trimmed. Only
      // recipient and reason matter: any other name is stepped over without a look at it.
      const name = bytes.startsWith('recipient', start) ? 'recipient' : bytes.startsWith('reason', start) ? 'reason' : undefined;
      if (name === undefined) continue;
      let cp = start + name.length;
      while (cp < end && bytes.charCodeAt(cp) === SP) cp++;
      if (cp >= end || bytes.charCodeAt(cp) !== 0x3d) continue;
      let vp = cp + 1;
      while (vp < end && bytes.charCodeAt(vp) === SP) vp++;
      let ve = end;
      while (ve > vp && bytes.charCodeAt(ve - 1) === SP) ve--;
      const value = bytes.slice(vp, ve);
      if (name === 'recipient') address = value === '' ? '(MAILER-DAEMON)' : value;
      else reason = value;
      continue;
    }
    if (first !== 0x3c) continue;
    const close = bytes.indexOf('>: ', start + 1);
    if (close < 0 || close + 3 > end) continue;
    address = close === start + 1 ? '(MAILER-DAEMON)' : bytes.slice(start + 1, close);
    let text = close + 2;
    while (text < end && bytes.charCodeAt(text) === SP) text++;
    reason = bytes.slice(text, end);
  }
  return entries;
}
