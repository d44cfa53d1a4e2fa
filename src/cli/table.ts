/** Plain-text tables for the modern commands: two spaces between columns, no trailing blanks. */
export function renderTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, align: ReadonlyArray<'left' | 'right'>): string {
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((c) => c[k]!.length)));
  const last = header.length - 1;
  const line = (c: readonly string[]): string =>
    c.map((v, k) => (align[k] === 'right' ? v.padStart(widths[k]!) : k < last ? v.padEnd(widths[k]!) : v)).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * Text from the outside world (addresses, reasons, names) as a table cell: control
 * characters (C0, DEL, C1) and the Unicode controls that reorder or hide text are shown
 * escaped (\x1b, \u202e), so that no terminal escape sequence or line break gets through.
 */
export function escapeCell(text: string): string {
  // eslint-disable-next-line no-control-regex -- the control characters are what is escaped
  return text.replace(/[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, (ch) => {
    const c = ch.charCodeAt(0);
    return c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
  });
}
