/**
 * A unified diff of two texts as `diff -u --label FROM --label TO` prints it (GNU diffutils):
 * three lines of context, changes closer than seven lines in one hunk, `@@ -l,s +l,s @@`
 * ranges (`l` alone for one line, `l,0` for none, counted from the line before), a change's
 * removed lines before its added ones, and `\ No newline at end of file` after a last line
 * without one. '' when the texts are equal. Pure.
 *
 * The lines are matched by Myers' algorithm after the common head and tail are set aside (as
 * diff does too); where several matchings are as short, runs of changed lines are moved as
 * diff's shift_boundaries() moves them.
 */

const CONTEXT = 3;

export function unifiedDiff(before: string, after: string, labels: { readonly from: string; readonly to: string }): string {
  if (before === after) return '';
  const a = linesOf(before);
  const b = linesOf(after);
  const ops = editScript(a, b);
  const hunks = hunksOf(ops);
  let out = `--- ${labels.from}\n+++ ${labels.to}\n`;
  for (const h of hunks) {
    out += `@@ -${range(h.aStart, h.aCount)} +${range(h.bStart, h.bCount)} @@\n`;
    for (const op of h.ops) {
      const line = op.kind === 'add' ? b[op.b]! : a[op.a]!;
      out += (op.kind === 'add' ? '+' : op.kind === 'del' ? '-' : ' ') + line;
      if (!line.endsWith('\n')) out += '\n\\ No newline at end of file\n';
    }
  }
  return out;
}

/** Lines with their '\n' (a last line may have none): a line without one differs from the same line with it, as in diff. */
function linesOf(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n').map((l) => `${l}\n`);
  if (text.endsWith('\n')) lines.pop();
  else lines[lines.length - 1] = lines[lines.length - 1]!.slice(0, -1);
  return lines;
}

/** 1-based start and count as diff -u writes them. */
function range(start: number, count: number): string {
  if (count === 0) return `${start},0`;
  return count === 1 ? `${start}` : `${start},${count}`;
}

type Op = { readonly kind: 'same'; readonly a: number; readonly b: number } | { readonly kind: 'del'; readonly a: number } | { readonly kind: 'add'; readonly b: number };

/** Every line of a and b once, in order: kept, removed or added; within a change, removals first. */
function editScript(a: readonly string[], b: readonly string[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const aChanged = new Array<boolean>(a.length).fill(false);
  const bChanged = new Array<boolean>(b.length).fill(false);
  myers(a, b, head, a.length - tail, head, b.length - tail, aChanged, bChanged);
  shiftBoundaries(a, aChanged, bChanged);
  shiftBoundaries(b, bChanged, aChanged);
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && !aChanged[i] && !bChanged[j]) {
      ops.push({ kind: 'same', a: i++, b: j++ });
      continue;
    }
    while (i < a.length && aChanged[i]) ops.push({ kind: 'del', a: i++ });
    while (j < b.length && bChanged[j]) ops.push({ kind: 'add', b: j++ });
  }
  return ops;
}

/** Marks the lines of a[aLo..aHi) and b[bLo..bHi) that a shortest edit script removes or adds. */
function myers(a: readonly string[], b: readonly string[], aLo: number, aHi: number, bLo: number, bHi: number, aChanged: boolean[], bChanged: boolean[]): void {
  const n = aHi - aLo;
  const m = bHi - bLo;
  if (n === 0 || m === 0) {
    for (let i = aLo; i < aHi; i++) aChanged[i] = true;
    for (let j = bLo; j < bHi; j++) bChanged[j] = true;
    return;
  }
  const max = n + m;
  const offset = max;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[aLo + x] === b[bLo + y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Back from (n, m) through the saved frontiers: each step is a removal or an addition, then a diagonal.
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d--) {
    const prev = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && prev[offset + k - 1]! < prev[offset + k + 1]!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = prev[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
    }
    if (down) bChanged[bLo + prevY] = true;
    else aChanged[aLo + prevX] = true;
    x = prevX;
    y = prevY;
  }
}

/**
 * diff's shift_boundaries() (analyze.c), on the lines of one file with the other's changes in
 * view: each run of changed lines slides up while the line before it equals its last line and
 * down while the line after it equals its first (merging with the runs it meets), ends as far
 * down as it goes, then moves back up to line up with a change in the other file if it can.
 */
function shiftBoundaries(lines: readonly string[], changedIn: boolean[], otherChangedIn: readonly boolean[]): void {
  const end = lines.length;
  // Out of range reads as unchanged, as diff's arrays are padded with zeroes on both sides.
  const changed = (k: number): boolean => k >= 0 && k < end && changedIn[k]!;
  const otherChanged = (k: number): boolean => k >= 0 && k < otherChangedIn.length && otherChangedIn[k]!;
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < end && !changed(i)) {
      while (otherChanged(j++));
      i++;
    }
    if (i === end) break;
    let start = i;
    while (changed(++i));
    while (otherChanged(j)) j++;
    let runLength: number;
    let corresponding: number;
    do {
      runLength = i - start;
      while (start > 0 && lines[start - 1] === lines[i - 1]) {
        changedIn[--start] = true;
        changedIn[--i] = false;
        while (changed(start - 1)) start--;
        while (otherChanged(--j));
      }
      corresponding = otherChanged(j - 1) ? i : end;
      while (i !== end && lines[start] === lines[i]) {
        changedIn[start++] = false;
        changedIn[i++] = true;
        while (changed(i)) i++;
        while (otherChanged(++j)) corresponding = i;
      }
    } while (runLength !== i - start);
    while (corresponding < i) {
      changedIn[--start] = true;
      changedIn[--i] = false;
      while (otherChanged(--j));
    }
  }
}

interface Hunk {
  aStart: number;
  aCount: number;
  bStart: number;
  bCount: number;
  ops: Op[];
}

/** Changes with CONTEXT lines around them; two changes at most 2 * CONTEXT lines apart share a hunk. */
function hunksOf(ops: readonly Op[]): Hunk[] {
  const changes: number[] = [];
  ops.forEach((op, k) => {
    if (op.kind !== 'same') changes.push(k);
  });
  const hunks: Hunk[] = [];
  let k = 0;
  while (k < changes.length) {
    const first = changes[k]!;
    let last = first;
    while (k + 1 < changes.length && changes[k + 1]! - last - 1 <= 2 * CONTEXT) last = changes[++k]!;
    k++;
    const from = Math.max(0, first - CONTEXT);
    const to = Math.min(ops.length, last + CONTEXT + 1);
    const slice = ops.slice(from, to);
    // Where the hunk starts in each file: the first line of that file it shows, else the line before it.
    const aLines = slice.filter((o) => o.kind !== 'add') as Array<{ a: number }>;
    const bLines = slice.filter((o) => o.kind !== 'del') as Array<{ b: number }>;
    hunks.push({
      aStart: aLines.length > 0 ? aLines[0]!.a + 1 : lineBefore(ops, from, 'a'),
      aCount: aLines.length,
      bStart: bLines.length > 0 ? bLines[0]!.b + 1 : lineBefore(ops, from, 'b'),
      bCount: bLines.length,
      ops: slice,
    });
  }
  return hunks;
}

/** The 1-based number of the last line of one file before ops[from] (0: none). */
function lineBefore(ops: readonly Op[], from: number, side: 'a' | 'b'): number {
  for (let k = from - 1; k >= 0; k--) {
    const op = ops[k]!;
    if (side === 'a' && op.kind !== 'add') return op.a + 1;
    if (side === 'b' && op.kind !== 'del') return op.b + 1;
  }
  return 0;
}
