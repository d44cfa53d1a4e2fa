/**
 * master.cf read natively, with the meaning `postconf -M` gives it
 * (postconf/postconf_master.c, confirmed against postconf 3.7):
 *  - lines as in main.cf (readllines()): `#` lines and blank lines dropped
 *    wherever they are, a line starting with white space continues the
 *    previous one (the piece glued on as it is);
 *  - fields split on white space, `{ ... }` grouping one field (argv_splitq):
 *    service, type, private, unpriv, chroot, wakeup, maxproc, command, args;
 *    a field that starts with `{` loses its braces and the white space just
 *    inside them;
 *  - the daemon options before the first other argument (or `--`) are
 *    normalised: `-oname=value`, `-o { name = value }` become one override
 *    name=value (white space around name and value trimmed); an `-o` whose
 *    value is no name=value stays two plain arguments;
 *  - `$name` in the service field stays as written (postconf does not
 *    expand it; master(8) does, see listeners.ts).
 * Pure: the caller reads the file.
 */
import { PostfleetError } from '../errors.js';
import { scanLogicalLines } from '../maincf/parse.js';

/**
 * An argument, or a daemon option `-o VALUE`: an override when VALUE is
 * name=value (then name and value are set), else VALUE as it is.
 */
type MasterWord =
  | { readonly kind: 'arg'; readonly text: string }
  | { readonly kind: 'option'; readonly text: string; readonly name?: string; readonly value?: string };

export interface MasterEntry {
  readonly service: string;
  readonly type: string;
  readonly private: string;
  readonly unpriv: string;
  readonly chroot: string;
  readonly wakeup: string;
  readonly maxproc: string;
  readonly command: string;
  /** The command's arguments, -o overrides normalised. */
  readonly words: readonly MasterWord[];
  /** 1-based line where the entry starts. */
  readonly line: number;
}

const SERVICE_TYPES = ['inet', 'unix', 'unix-dgram', 'fifo', 'pass'] as const;

/** The -o overrides of an entry, later ones winning. */
export function overrides(e: MasterEntry): Map<string, string> {
  const m = new Map<string, string>();
  for (const w of e.words) if (w.kind === 'option' && w.name !== undefined) m.set(w.name, w.value ?? '');
  return m;
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';

/** argv_splitq(line, CHARS_SPACE, CHARS_BRACE): white-space separated, `{...}` kept whole. */
function splitFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) break;
    let word = '';
    let depth = 0;
    for (; i < n; i++) {
      const c = line[i]!;
      if (depth === 0 && isSpace(c)) break;
      if (c === '{') depth++;
      else if (c === '}' && depth > 0) depth--;
      word += c;
    }
    out.push(word);
  }
  return out;
}

/** extpar(.., EXTPAR_FLAG_STRIP): `{ text }` to `text`; a field without a leading brace as it is. */
function stripBraces(field: string): string {
  if (!field.startsWith('{')) return field;
  const inner = field.endsWith('}') ? field.slice(1, -1) : field.slice(1);
  let a = 0;
  let b = inner.length;
  while (a < b && isSpace(inner[a])) a++;
  while (b > a && isSpace(inner[b - 1])) b--;
  return inner.slice(a, b);
}

/** split_nameval() on an override: `name = value`, or undefined. */
function splitOverride(text: string): { name: string; value: string } | undefined {
  const m = /^[ \t\r\n\v\f]*([^ \t\r\n\v\f=]+)[ \t\r\n\v\f]*=(.*)$/s.exec(text);
  if (!m) return undefined;
  return { name: m[1]!, value: m[2]!.replace(/^[ \t\r\n\v\f]+|[ \t\r\n\v\f]+$/g, '') };
}

function normalizeWords(args: readonly string[]): MasterWord[] {
  const words: MasterWord[] = [];
  let options = true;
  for (let k = 0; k < args.length; k++) {
    const raw = args[k]!;
    if (options && (!raw.startsWith('-') || raw === '--')) options = false;
    if (options && raw.startsWith('-o')) {
      const attached = raw.length > 2;
      const valueField = attached ? raw.slice(2) : args[k + 1];
      if (valueField !== undefined) {
        const stripped = stripBraces(valueField);
        const nv = splitOverride(stripped);
        words.push(nv === undefined ? { kind: 'option', text: stripped } : { kind: 'option', text: `${nv.name}=${nv.value}`, ...nv });
        if (!attached) k++;
        continue;
      }
    }
    words.push({ kind: 'arg', text: stripBraces(raw) });
  }
  return words;
}

const FLAG = /^[yn-]$/;

/** master.cf text to its entries, or a PostfleetError naming `source` and the line (postconf: fatal). */
export function parseMasterCf(text: string, source = 'master.cf'): MasterEntry[] {
  const bytes = Buffer.from(text, 'utf8');
  const entries: MasterEntry[] = [];
  // Line numbers by binary search over the newline offsets, found once.
  const newlines: number[] = [];
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) newlines.push(i);
  const lineAt = (offset: number): number => {
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newlines[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
  scanLogicalLines(bytes, (buf, start, end, offset) => {
    const logical = buf.toString('utf8', start, end);
    const line = lineAt(offset);
    const f = splitFields(logical).map((w, k) => (k < 8 ? stripBraces(w) : w));
    const bad = (what: string): never => {
      throw new PostfleetError(`${source}: line ${line}: ${what} in "${logical}"`);
    };
    if (f.length < 8) bad('bad field count');
    const [service, type, priv, unpriv, chroot, wakeup, maxproc, command] = f as [string, string, string, string, string, string, string, string];
    if (!(SERVICE_TYPES as readonly string[]).includes(type)) bad(`invalid type field "${type}"`);
    if (!FLAG.test(priv)) bad(`invalid private field "${priv}"`);
    if (!FLAG.test(unpriv)) bad(`invalid unpriv field "${unpriv}"`);
    if (!FLAG.test(chroot)) bad(`invalid chroot field "${chroot}"`);
    if (!/^(-|[0-9]+\??)$/.test(wakeup)) bad(`invalid wakeup field "${wakeup}"`);
    if (!/^(-|[0-9]+)$/.test(maxproc)) bad(`invalid maxproc field "${maxproc}"`);
    entries.push({ service, type, private: priv, unpriv, chroot, wakeup, maxproc, command, words: normalizeWords(f.slice(8)), line });
  });
  return entries;
}

// ---------------------------------------------------------------------------------------------
// postconf -M / -Mf output, for the differential tests and for showing an entry to a user
// ---------------------------------------------------------------------------------------------

/** Where each of the first seven fields would end its column (the next one starts one further). */
const COLUMNS = [10, 16, 24, 32, 40, 48, 56];
const INDENT = '    ';
const LINE_LIMIT = 80;

function wordText(w: MasterWord): string[] {
  if (w.kind === 'arg') return [w.text];
  return ['-o', /[ \t\r\n\v\f]/.test(w.text) ? `{${w.text}}` : w.text];
}

/** One entry as `postconf -M` prints it, or folded as `postconf -Mf` does. */
export function formatMasterEntry(e: MasterEntry, fold = false): string {
  let out = '';
  const fields = [e.service, e.type, e.private, e.unpriv, e.chroot, e.wakeup, e.maxproc];
  fields.forEach((f, k) => {
    out += f;
    out += ' '.repeat(Math.max(1, COLUMNS[k]! + 1 - out.length));
  });
  out += e.command;
  let lineLength = out.length;
  let breakNext = false;
  const newLine = (): void => {
    out += `\n${INDENT}`;
    lineLength = INDENT.length;
  };
  for (const w of e.words) {
    const text = wordText(w).join(' ');
    if (fold && (w.kind === 'option' || breakNext)) newLine();
    else if (fold && lineLength > INDENT.length && lineLength + 1 + text.length >= LINE_LIMIT) newLine();
    else {
      out += ' ';
      lineLength += 1;
    }
    out += text;
    lineLength += text.length;
    breakNext = w.kind === 'option';
  }
  return out;
}
