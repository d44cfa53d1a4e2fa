/**
 * One queue file's envelope, read the way showq(8) of Postfix 3.7 reads it (showq_report()
 * over rec_get() with REC_FLAG_DEFAULT): so that what postfleet lists is what postqueue -j
 * lists, field for field.
 *
 * Records (global/record.c): a type byte, the data length in base-128 groups (low first,
 * high bit = more), the data. rec_get() follows pointer records (`p`, a decimal offset; 0 is
 * a placeholder), skips padding (`w`) and ends the file at `E`. showq takes the first non-zero
 * time record (`T`, seconds first) and the first well-formed size record (`C`, its first field
 * is the size of the content), and reports the message at the sender record (`S`) with the
 * time and size seen so far (else the file's mtime and size); recipients (`R`; delivered ones
 * are `D` and not shown) follow, after the recipients of the defer log with their reasons
 * (defer-log.ts), each address once. At `M` it seeks over the content when the size is known.
 * A malformed or truncated record ends the reading: what was reported stays reported.
 */
import { readSync } from 'node:fs';
import { atol, cString, decodeBytes, showqAddress } from './text.js';

export interface Recipient {
  readonly address: string;
  /** Present for a recipient of the defer log (postqueue -j prints no delay_reason otherwise). */
  readonly delay_reason?: string;
}

/** What showq reports of one file, before the queue name, id and instance are added. */
export interface Envelope {
  readonly arrival_time: number;
  readonly message_size: number;
  readonly forced_expire: boolean;
  readonly sender: string;
  readonly recipients: Recipient[];
}

export interface ReadOptions {
  /** smtputf8_enable of the instance: printable() keeps UTF-8 then (showq's util_utf8_enable). */
  readonly smtputf8: boolean;
  /** empty_address_recipient (MAILER-DAEMON): how an empty sender or recipient is shown. */
  readonly emptyAddress: string;
  /** duplicate_filter_limit: how many defer log addresses showq remembers to skip in the file. */
  readonly duplicateFilterLimit: number;
}

export interface DeferredRecipient {
  readonly address: string;
  readonly reason: string;
}

export interface FileFacts {
  readonly fd: number;
  readonly size: number;
  /** st_mtime, whole seconds. */
  readonly mtime: number;
  readonly mode: number;
}

const REC_SIZE = 0x43; // C
const REC_TIME = 0x54; // T
const REC_FROM = 0x53; // S
const REC_RCPT = 0x52; // R
const REC_MESG = 0x4d; // M
const REC_END = 0x45; // E
const REC_PTR = 0x70; // p
const REC_DTXT = 0x77; // w
/** global/record.c: REVERSE_JUMP_LIMIT. */
const REVERSE_JUMP_LIMIT = 10_000;
/** S_IXGRP: postsuper -e/-f marks a message to expire. */
const MAIL_QUEUE_STAT_EXPIRE = 0o010;

/**
 * A window over an open file: the bytes at [base, base + length). A small queue file is read
 * whole by the first read; a large one is read where its envelope is, never its content.
 */
class FileWindow {
  private buf: Buffer;
  private base = 0;
  private length = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    scratch: Buffer,
  ) {
    this.buf = scratch;
  }

  /** The bytes [pos, pos + n) as a byte string, or null past the end of the file. */
  bytes(pos: number, n: number): string | null {
    if (pos + n > this.size) return null;
    if (!this.has(pos, n)) this.load(pos, n);
    if (!this.has(pos, n)) return null;
    return this.buf.toString('latin1', pos - this.base, pos - this.base + n);
  }

  byte(pos: number): number {
    if (pos >= this.size) return -1;
    if (!this.has(pos, 1)) this.load(pos, 1);
    return this.has(pos, 1) ? this.buf[pos - this.base]! : -1;
  }

  private has(pos: number, n: number): boolean {
    return pos >= this.base && pos + n <= this.base + this.length;
  }

  private load(pos: number, n: number): void {
    if (this.buf.length < n) this.buf = Buffer.allocUnsafe(n);
    this.base = pos;
    this.length = 0;
    const want = Math.min(this.buf.length, this.size - pos);
    while (this.length < want) {
      const got = readSync(this.fd, this.buf, this.length, want - this.length, pos + this.length);
      if (got === 0) break;
      this.length += got;
    }
  }
}

interface RawRecord {
  readonly type: number;
  readonly data: string;
}

/**
 * rec_get() with REC_FLAG_DEFAULT: the next record, following pointers and skipping
 * padding; { type: -1 } at the end of the file, { type: -2, … } on a malformed record.
 * `data` is only read for the records showq looks at; the others are stepped over.
 */
class RecordReader {
  pos = 0;
  private savedOffset = 0;
  private reverseJumps = 0;
  problem: string | undefined;

  constructor(private readonly file: FileWindow) {}

  next(): RawRecord {
    for (;;) {
      const at = this.pos;
      const type = this.file.byte(this.pos);
      if (type < 0) return { type: -1, data: '' };
      this.pos++;
      let length = 0;
      for (let shift = 0; ; shift += 7) {
        if (shift >= 32) return this.error(`too many length bits, record type ${type} at offset ${at}`);
        const b = this.file.byte(this.pos++);
        if (b < 0) return this.error(`unexpected end of file reading the length of record type ${type} at offset ${at}`);
        length += (b & 0x7f) * 2 ** shift;
        if ((b & 0x80) === 0) break;
      }
      // C's int arithmetic: a length that does not fit is negative there.
      if (length > 0x7fffffff) return this.error(`illegal length ${length}, record type ${type} at offset ${at}`);
      const wanted = type === REC_SIZE || type === REC_TIME || type === REC_FROM || type === REC_RCPT || type === REC_PTR;
      let data = '';
      if (wanted) {
        const d = this.file.bytes(this.pos, length);
        if (d === null) return this.error(`unexpected end of file in record type ${type} at offset ${at} (length ${length})`);
        data = d;
      } else if (this.pos + length > this.file.size) {
        return this.error(`unexpected end of file in record type ${type} at offset ${at} (length ${length})`);
      }
      this.pos += length;
      if (type === REC_PTR) {
        const target = this.jump(cString(data));
        if (target === 'error') return { type: -2, data: '' };
        continue;
      }
      if (type === REC_DTXT) continue;
      if (type === REC_END) this.pos = this.file.size;
      return { type, data };
    }
  }

  /** Skips n bytes forward (showq's seek over the content). */
  skip(n: number): void {
    this.pos += n;
  }

  private error(problem: string): RawRecord {
    this.problem = problem;
    return { type: -2, data: '' };
  }

  /** rec_goto(): a pointer record's offset; 0 is a placeholder. */
  private jump(value: string): 'ok' | 'error' {
    // off_cvt_string(): digits only (none is 0).
    const digits = /^[ \t\n\v\f\r]*(\d*)$/.exec(value);
    if (!digits) {
      this.problem = `malformed pointer record value: ${value.slice(0, 40)}`;
      return 'error';
    }
    const offset = Number(digits[1] || 0);
    if (offset === 0) return 'ok';
    if (offset <= this.savedOffset && ++this.reverseJumps > REVERSE_JUMP_LIMIT) {
      this.problem = 'too many reverse jump records';
      return 'error';
    }
    this.pos = offset;
    this.savedOffset = offset;
    return 'ok';
  }
}

/**
 * What a queue file says of its message, before its defer log is added: showq's time, size
 * and sender as they stand at the sender record, and the file's pending recipients in order.
 * Addresses are showq's printable byte strings (decodeBytes() makes them text).
 */
export interface FileEnvelope {
  readonly arrival_time: number;
  readonly message_size: number;
  readonly sender: string;
  readonly recipients: readonly string[];
}

export interface FileRead {
  /** null when showq would report nothing (no sender record before the end or an error). */
  readonly file: FileEnvelope | null;
  /** Why the reading stopped early, if it did: a malformed record, a second sender … */
  readonly problem?: string;
}

/**
 * showq_report() of Postfix 3.7 over an open queue file, up to what the defer log adds
 * (envelopeOf()): showq opens the log at the sender record, a message without one has none.
 */
export function readQueueFile(file: FileFacts, options: Omit<ReadOptions, 'duplicateFilterLimit'>, scratch: Buffer): FileRead {
  const reader = new RecordReader(new FileWindow(file.fd, file.size, scratch));
  let arrival = 0;
  let size = file.size;
  let sizeOk = false;
  let envelope: { arrival_time: number; message_size: number; sender: string; recipients: string[] } | null = null;
  let problem: string | undefined;
  for (;;) {
    const rec = reader.next();
    if (rec.type <= 0) {
      if (rec.type === -2) problem = reader.problem ?? 'malformed record';
      break;
    }
    switch (rec.type) {
      case REC_TIME:
        if (arrival === 0) arrival = atol(rec.data);
        break;
      case REC_SIZE:
        if (!sizeOk) {
          const data = cString(rec.data);
          sizeOk = /^[0-9 ]*$/.test(data) && atol(data) >= 0;
          size = sizeOk ? atol(data) : file.size;
        }
        break;
      case REC_FROM: {
        const sender = showqAddress(rec.data, options.smtputf8, options.emptyAddress);
        if (envelope !== null) return { file: envelope, problem: `duplicate sender address: ${decodeBytes(sender)}` };
        envelope = { arrival_time: arrival > 0 ? arrival : file.mtime, message_size: size, sender, recipients: [] };
        break;
      }
      case REC_RCPT:
        if (envelope === null) return { file: null, problem: 'recipient before the sender address' };
        envelope.recipients.push(showqAddress(rec.data, options.smtputf8, options.emptyAddress));
        break;
      case REC_MESG:
        if (sizeOk) reader.skip(size);
        break;
      default:
        break;
    }
  }
  if (envelope === null && problem === undefined) problem = 'no sender record';
  return problem === undefined ? { file: envelope } : { file: envelope, problem };
}

/**
 * The message as showq reports it: the recipients of the defer log first, each with its
 * reason (`logged`, null without a log), then those of the file that the log does not name
 * (showq remembers up to duplicate_filter_limit of the log's addresses; 0: all).
 * forced_expire is the mode's group execute bit.
 */
export function envelopeOf(file: FileEnvelope, mode: number, logged: readonly DeferredRecipient[] | null, duplicateFilterLimit: number): Envelope {
  const recipients: Recipient[] = [];
  let seen: Set<string> | null = null;
  if (logged !== null) {
    seen = new Set();
    for (const r of logged) {
      if (duplicateFilterLimit === 0 || seen.size < duplicateFilterLimit) seen.add(r.address);
      recipients.push({ address: decodeBytes(r.address), delay_reason: decodeBytes(r.reason) });
    }
  }
  for (const address of file.recipients) if (seen === null || !seen.has(address)) recipients.push({ address: decodeBytes(address) });
  return {
    arrival_time: file.arrival_time,
    message_size: file.message_size,
    forced_expire: (mode & MAIL_QUEUE_STAT_EXPIRE) !== 0,
    sender: decodeBytes(file.sender),
    recipients,
  };
}
