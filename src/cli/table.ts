/** Plain-text tables for the modern commands: two spaces between columns, no trailing blanks. */
export function renderTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, align: ReadonlyArray<'left' | 'right'>): string {
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((c) => c[k]!.length)));
  const last = header.length - 1;
  const line = (c: readonly string[]): string =>
    c.map((v, k) => (align[k] === 'right' ? v.padStart(widths[k]!) : k < last ? v.padEnd(widths[k]!) : v)).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
