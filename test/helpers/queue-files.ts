/** Queue files written record by record, as cleanup(8) writes them (global/record.c's rec_put()). */

/** One record: type, length in base-128 groups (low first), data (bytes as latin1). */
export function rec(type: string, data: string | Buffer = ''): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const length: number[] = [];
  let n = bytes.length;
  do {
    length.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from(type, 'latin1'), Buffer.from(length), bytes]);
}

export interface MessageSpec {
  readonly time?: number;
  readonly sender: string;
  readonly recipients: readonly string[];
  /** Recipients already delivered (D records). */
  readonly done?: readonly string[];
  readonly body?: string;
  /** Write the size record (cleanup does; postdrop's maildrop files have none). */
  readonly sizeRecord?: boolean;
}

/** A complete queue file: C T S (D) R … M N… X E, with the size record's offsets right. */
export function queueFile(spec: MessageSpec): Buffer {
  const body = spec.body ?? 'Subject: test\n\nbody';
  const content = Buffer.concat(body.split('\n').map((line) => rec('N', line)));
  const envelope = Buffer.concat([
    rec('T', `${spec.time ?? 1_700_000_000} 123456`),
    rec('A', 'create_time=1700000000'),
    rec('S', spec.sender),
    ...(spec.done ?? []).map((r) => rec('D', r)),
    ...spec.recipients.map((r) => rec('R', r)),
    rec('M'),
  ]);
  const size = (dataOffset: number): Buffer => rec('C', [content.length, dataOffset, spec.recipients.length, 0, content.length, 0].map((n) => String(n).padStart(15)).join(' '));
  const sizeLength = size(0).length;
  const head = spec.sizeRecord === false ? envelope : Buffer.concat([size(sizeLength + envelope.length), envelope]);
  return Buffer.concat([head, content, rec('X'), rec('E')]);
}
