/**
 * $name expansion exactly as `postconf -x` does it: Postfix's mac_parse()
 * and mac_expand() with MAC_EXP_FLAG_RECURSE, plus the `<level`-style
 * compatibility-level operators that postconf registers. Pure.
 *
 * Rules (util/mac_parse.c, util/mac_expand.c, global/compat_level.c,
 * postconf/postconf_lookup.c; confirmed against postconf 3.7):
 *  - `$$` is a literal `$`, unescaped once per value: `b = x$$y`,
 *    `a = $b` gives a = x$y (text from a looked-up value is not re-parsed
 *    after its own expansion).
 *  - `$name` takes [A-Za-z0-9_]*; `${...}` / `$(...)` run to the matching
 *    close, counting only that kind of bracket. `$` followed by anything
 *    else, `${}` and an unclosed `${` are errors.
 *  - `${name}`, `${name?text}`, `${name:text}`: white space around the name
 *    is ignored; other characters in it are an error. The ?/: test looks
 *    at the RAW value (`b = $c`, `c =`: `${b?x}` is x). Without braces the
 *    text runs to the end, so `${a?x:y}` is "x:y" or "". With braces,
 *    `${a?{x}}`, `${a?{x}:{y}}`, `${a:{y}}`: white space around {..} is
 *    skipped, anything else after it is an error.
 *  - `${{l} OP {r} ? {t} : {f}}` with == != < <= >= > (numeric when both
 *    sides are all digits, else strcmp) and ==level etc. (compatibility
 *    levels major[.minor[.patch]]). A bare `${{l} == {r}}` gives "true"/"".
 *  - Undefined names expand to the empty string (postconf only warns).
 *  - Only branches that are taken are parsed, so errors elsewhere pass.
 *  - Nesting: every literal chunk and $-expression is one "call"; a call
 *    nested more than 100 deep is an error ("unreasonable macro call
 *    nesting"). So a reference chain of 100 parameters ending in text
 *    works, 101 does not; `a = $b`, `b = $a` is an error. postconf makes
 *    every expansion error fatal ("macro processing error"); so do we
 *    (PostfleetError). A loop through a {relational} operand, which
 *    Postfix restarts the count for, crashes postconf (SIGSEGV); we report
 *    it as the same nesting error, and refuse any expansion nested more
 *    than MAX_ACTIVE_EXPANSIONS deep through such operands (Postfix would
 *    go on until its C stack ends; no real main.cf comes near).
 *
 * Values are cached per parameter together with how deep their expansion
 * nests, which is all that the nesting limit needs: a cached value reproduces
 * Postfix's result and errors exactly, without re-expanding.
 */
import { PostfleetError } from '../errors.js';

/** Raw value of a parameter (setting, else default), undefined if none. */
type RawLookup = (name: string) => string | undefined;

/** mac_expand(): `if (mc->level++ > 100)` at every call. */
const MAX_LEVEL = 100;
/**
 * Our own guard against overflowing the JavaScript stack: nested mac_expand
 * activations, counted across the fresh contexts of relational operands
 * (where Postfix restarts its count and only the C stack stops it). Plain
 * nesting fails at 101 long before; ~1200 would overflow Node's stack.
 */
const MAX_ACTIVE_EXPANSIONS = 400;
/** MAC_EXP_WHITESPACE (CHARS_SPACE). */
const MAC_WHITESPACE = ' \t\r\n';
/** postconf's print_line() separators: what `postconf -h` squeezes to one space. */
const PRINT_SEPARATORS = /[ \t\r\n]+/;
/** A value that print_line() would change: white space other than single inner spaces. */
const NEEDS_NORMALISING = /[\t\r\n]| {2}|^ | $/;

class MacroError extends Error {}

interface Expansion {
  readonly text: string;
  /** Deepest call nesting inside this text's own expansion (0 for ""). */
  readonly depth: number;
}

interface Resolver {
  raw(name: string): string | undefined;
  /** Bracket every expandAt() activation; throws past MAX_ACTIVE_EXPANSIONS. */
  enter(): void;
  leave(): void;
  /** The expansion of a named parameter's raw value; only called when that value is non-empty. */
  expanded(name: string): Expansion;
}

type Token = { readonly kind: 'literal'; readonly text: string } | { readonly kind: 'expr'; readonly text: string };

// Character classes by code, not by regular expression: these run for every character of
// every value a fleet-wide check expands.
const isAlnumCode = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isWordChar = (ch: string | undefined): boolean => ch !== undefined && ch.length === 1 && (isAlnumCode(ch.charCodeAt(0)) || ch === '_');
const isAlnum = (ch: string | undefined): boolean => ch !== undefined && ch.length === 1 && isAlnumCode(ch.charCodeAt(0));

function skipWhitespace(s: string, i: number): number {
  while (i < s.length && MAC_WHITESPACE.includes(s[i] as string)) i++;
  return i;
}

/**
 * Parsed values: a fleet's instances share most of theirs (the defaults), so each is parsed
 * once per run. Bounded, for a long-lived caller.
 */
const parsedValues = new Map<string, readonly Token[]>();

function parsedValue(value: string): readonly Token[] {
  let tokens = parsedValues.get(value);
  if (tokens === undefined) {
    tokens = macParse(value);
    if (parsedValues.size >= 10_000) parsedValues.clear();
    parsedValues.set(value, tokens);
  }
  return tokens;
}

/** mac_parse(): split into literal text and $-expressions, or fail like it does. */
function macParse(value: string): Token[] {
  const tokens: Token[] = [];
  let literal = '';
  let i = 0;
  while (i < value.length) {
    const dollar = value.indexOf('$', i);
    if (dollar < 0) {
      literal += value.slice(i);
      break;
    }
    literal += value.slice(i, dollar);
    i = dollar;
    if (value[i + 1] === '$') {
      literal += '$';
      i += 2;
      continue;
    }
    if (literal !== '') tokens.push({ kind: 'literal', text: literal });
    literal = '';
    i += 1;
    let name: string;
    const open = value[i];
    if (open === '{' || open === '(') {
      const close = open === '{' ? '}' : ')';
      let level = 1;
      let end = i + 1;
      for (; level > 0; end++) {
        if (end >= value.length) throw new MacroError(`truncated macro reference: "${value}"`);
        if (value[end] === open) level++;
        if (value[end] === close) level--;
      }
      name = value.slice(i + 1, end - 1);
      i = end;
    } else {
      let end = i;
      while (isWordChar(value[end])) end++;
      name = value.slice(i, end);
      i = end;
    }
    if (name === '') throw new MacroError(`empty macro name: "${value}"`);
    tokens.push({ kind: 'expr', text: name });
  }
  if (literal !== '') tokens.push({ kind: 'literal', text: literal });
  return tokens;
}

/** mac_exp_extract_curly_payload(): `{...}` at `open`, balanced; returns payload and the position after trailing white space. */
function extractCurly(s: string, open: number): { payload: string; next: number } {
  let level = 1;
  let i = open + 1;
  for (;;) {
    if (i >= s.length) throw new MacroError(`unbalanced {} in attribute expression: "${s.slice(open)}"`);
    if (s[i] === '{') level++;
    else if (s[i] === '}' && --level <= 0) break;
    i++;
  }
  return { payload: s.slice(open + 1, i), next: skipWhitespace(s, i + 1) };
}

const RELOPS = ['==', '!=', '<', '<=', '>=', '>'] as const;
type Relop = (typeof RELOPS)[number];
const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

function compare(delta: bigint | number, op: Relop): boolean {
  switch (op) {
    case '==': return delta === 0 || delta === 0n;
    case '!=': return !(delta === 0 || delta === 0n);
    case '<': return delta < 0;
    case '<=': return delta <= 0;
    case '>=': return delta >= 0;
    case '>': return delta > 0;
  }
}

/** mac_exp_eval(): numbers when both sides are all digits, else strcmp(). */
function evalPlain(left: string, op: Relop, right: string): boolean {
  const allDigits = (s: string): boolean => /^[0-9]+$/.test(s);
  if (allDigits(left) && allDigits(right)) {
    const l = BigInt(left);
    const r = BigInt(right);
    for (const v of [l, r]) {
      if (v > LONG_MAX) throw new MacroError(`mac_exp_eval: bad conversion: ${v === l ? left : right}`);
    }
    return compare(l - r, op);
  }
  return compare(byteCompare(left, right), op);
}

function byteCompare(a: string, b: string): number {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return Buffer.compare(x, y);
}

/** strtol(s + start, &end, 10): C white space, sign, digits; end === start if nothing converted. */
function strtol(s: string, start: number): { value: bigint; end: number; overflow: boolean } {
  let i = start;
  while (i < s.length && ' \t\n\v\f\r'.includes(s[i] as string)) i++;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') negative = s[i++] === '-';
  const digitsStart = i;
  while (i < s.length && s[i]! >= '0' && s[i]! <= '9') i++;
  if (i === digitsStart) return { value: 0n, end: start, overflow: false };
  const magnitude = BigInt(s.slice(digitsStart, i));
  const value = negative ? -magnitude : magnitude;
  return { value, end: i, overflow: value > LONG_MAX || value < LONG_MIN };
}

/** compat_level_from_string(): major[.minor[.patch]] as one comparable number. */
function compatLevel(str: string): bigint {
  const bad = (): never => {
    throw new MacroError(`malformed compatibility level syntax: "${str}"`);
  };
  const limits = [LONG_MAX >> 20n, 1023n, 1023n];
  const shifts = [20n, 10n, 0n];
  let result = 0n;
  let start = 0;
  for (let part = 0; part < 3; part++) {
    const { value, end, overflow } = strtol(str, start);
    const atEnd = end === str.length;
    // Only major and minor may be followed by a dot.
    if (end === start || overflow || value < 0n || value > limits[part]!) bad();
    if (!atEnd && !(part < 2 && str[end] === '.')) bad();
    result |= value << shifts[part]!;
    if (atEnd) return result;
    start = end + 1;
  }
  return bad();
}

function evalLevel(left: string, op: Relop, right: string): boolean {
  return compare(compatLevel(left) - compatLevel(right), op);
}

/**
 * mac_expand() of `pattern` whose calls start at nesting `level`; appends to
 * `out` and returns the deepest nesting reached below `level`.
 */
function expandAt(pattern: string, level: number, resolver: Resolver, out: string[]): number {
  resolver.enter();
  try {
    let depth = 0;
    for (const token of parsedValue(pattern)) {
      if (level > MAX_LEVEL) throw new MacroError(`unreasonable macro call nesting: "${token.text}"`);
      if (token.kind === 'literal') {
        out.push(token.text);
        depth = Math.max(depth, 1);
      } else {
        depth = Math.max(depth, 1 + expandExpression(token.text, level, resolver, out));
      }
    }
    return depth;
  } finally {
    resolver.leave();
  }
}

/** Expansion in a fresh mac_expand() context, as relational operands get. */
function expandFresh(pattern: string, resolver: Resolver): string {
  const out: string[] = [];
  expandAt(pattern, 0, resolver, out);
  return out.join('');
}

/** mac_exp_parse_relational(): `{l} OP {r}` starting at the `{`; the fake lookup result and where parsing goes on. */
function parseRelational(s: string, open: number, resolver: Resolver): { lookup: string; next: number } {
  const left = extractCurly(s, open);
  let cp = left.next;
  let opLen = 0;
  while (cp + opLen < s.length && '<>!=?+-*/~&|%'.includes(s[cp + opLen] as string)) opLen++;
  const op = s.slice(cp, cp + opLen);
  if (!(RELOPS as readonly string[]).includes(op)) {
    throw new MacroError(`"==" or "!=" or "<" or "<=" or ">=" or ">" expected at: "...${left.payload}}>>>${s.slice(cp, cp + 20)}"`);
  }
  cp += opLen;
  let evaluate = evalPlain;
  if (isAlnum(s[cp])) {
    let end = cp;
    while (isAlnum(s[end])) end++;
    // postconf registers one operator suffix: compat_level_relop_register().
    if (s.slice(cp, end) !== 'level') throw new MacroError(`bad operator suffix at: "...${op}>>>${s.slice(cp, end)}"`);
    evaluate = evalLevel;
    cp = end;
  }
  const rightOpen = skipWhitespace(s, cp);
  if (s[rightOpen] !== '{') {
    throw new MacroError(`"{expression}" expected at: "...{${left.payload}} ${op}>>>${s.slice(cp, cp + 20)}"`);
  }
  const right = extractCurly(s, rightOpen);
  const leftValue = expandFresh(left.payload, resolver);
  const rightValue = expandFresh(right.payload, resolver);
  return { lookup: evaluate(leftValue, op as Relop, rightValue) ? 'true' : '', next: right.next };
}

/** mac_expand_callback() for one `${...}` body at nesting `level`; returns the nesting reached below it. */
function expandExpression(expr: string, level: number, resolver: Resolver, out: string[]): number {
  let lookup: string | undefined;
  let name: string | undefined;
  let op = '';
  let cp: number;
  const start = skipWhitespace(expr, 0);
  if (expr[start] === '{') {
    const relational = parseRelational(expr, start, resolver);
    lookup = relational.lookup;
    cp = relational.next;
    if (cp < expr.length) {
      op = expr[cp] as string;
      if (op !== '?' && op !== ':') throw new MacroError(`"?" or ":" expected at: "...}>>>${expr.slice(cp, cp + 20)}"`);
      cp++;
    }
  } else {
    cp = start;
    for (;; cp++) {
      const after = skipWhitespace(expr, cp);
      if (after === expr.length) {
        name = expr.slice(start, cp);
        break;
      }
      if (expr[after] === '?' || expr[after] === ':') {
        name = expr.slice(start, cp);
        op = expr[after];
        cp = after + 1;
        break;
      }
      if (!isWordChar(expr[cp])) {
        throw new MacroError(`attribute name syntax error at: "...${expr.slice(0, cp)}>>>${expr.slice(cp, cp + 20)}"`);
      }
    }
    lookup = resolver.raw(name);
  }

  const isSet = lookup !== undefined && lookup !== '';
  let depth = 0;
  const branch = (): string => {
    const open = skipWhitespace(expr, cp);
    if (expr[open] === '{') {
      const curly = extractCurly(expr, open);
      cp = curly.next;
      return curly.payload;
    }
    const rest = expr.slice(cp);
    cp = expr.length;
    return rest;
  };

  if (op === '?') {
    const ifTrue = branch();
    if (isSet) depth = Math.max(depth, expandAt(ifTrue, level + 1, resolver, out));
    if (cp < expr.length) {
      if (expr[cp] !== ':') throw new MacroError(`":" expected at: "...${ifTrue}}>>>${expr.slice(cp, cp + 20)}"`);
      cp++;
      op = ':';
      // Fall through to the ':' part of a ternary, as mac_expand does.
      const ifFalse = branch();
      if (!isSet) depth = Math.max(depth, expandAt(ifFalse, level + 1, resolver, out));
      if (cp < expr.length) throw new MacroError(`unexpected input at: "...${ifFalse}}>>>${expr.slice(cp, cp + 20)}"`);
    }
  } else if (op === ':') {
    const ifFalse = branch();
    if (!isSet) depth = Math.max(depth, expandAt(ifFalse, level + 1, resolver, out));
    if (cp < expr.length) throw new MacroError(`unexpected input at: "...${ifFalse}}>>>${expr.slice(cp, cp + 20)}"`);
  } else if (isSet) {
    if (name === undefined) {
      // A bare relational expression: its "true" is parsed like a value.
      depth = expandAt(lookup as string, level + 1, resolver, out);
    } else {
      const expansion = resolver.expanded(name);
      if (level + expansion.depth > MAX_LEVEL) throw new MacroError(`unreasonable macro call nesting: "${name}"`);
      out.push(expansion.text);
      depth = expansion.depth;
    }
  }
  return depth;
}

/**
 * Memoised resolver: each parameter is expanded once, in a context of its
 * own (level 0); its nesting depth is kept so that the limit can be
 * applied wherever it is used. Errors are cached too.
 */
class CachingResolver implements Resolver {
  private readonly cache = new Map<string, Expansion | MacroError>();
  private readonly open: string[] = [];
  private active = 0;

  constructor(readonly raw: RawLookup) {}

  enter(): void {
    if (++this.active > MAX_ACTIVE_EXPANSIONS) {
      this.active--;
      throw new MacroError(`unreasonable macro call nesting: more than ${MAX_ACTIVE_EXPANSIONS} nested expansions`);
    }
  }

  leave(): void {
    this.active--;
  }

  expanded(name: string): Expansion {
    const cached = this.cache.get(name);
    if (cached instanceof MacroError) throw cached;
    if (cached !== undefined) return cached;
    const value = this.raw(name);
    if (value === undefined || value === '') return { text: '', depth: 0 };
    const loop = this.open.indexOf(name);
    if (loop >= 0) {
      // Expansion is deterministic: coming back to an open parameter never ends.
      const path = [...this.open.slice(loop), name].map((n) => `$${n}`).join(' -> ');
      throw new MacroError(`unreasonable macro call nesting: ${path}`);
    }
    this.open.push(name);
    try {
      const out: string[] = [];
      const depth = expandAt(value, 0, this, out);
      const expansion: Expansion = { text: out.join(''), depth };
      this.cache.set(name, expansion);
      return expansion;
    } catch (e) {
      if (e instanceof MacroError) this.cache.set(name, e);
      throw e;
    } finally {
      this.open.pop();
    }
  }
}

/**
 * mac_expand(raw, MAC_EXP_FLAG_RECURSE) with `lookup` giving the raw value of
 * a named parameter (undefined = not defined). The result is not white-space
 * normalised; see ParameterSet.get() for what postconf prints.
 */
export function expandValue(raw: string, lookup: (name: string) => string | undefined): string {
  const resolver = new CachingResolver(lookup);
  try {
    const out: string[] = [];
    expandAt(raw, 0, resolver, out);
    return out.join('');
  } catch (e) {
    if (e instanceof MacroError) throw new PostfleetError(`cannot expand "${raw}": ${e.message}`);
    throw e;
  }
}

/** What postconf's print_line() does to a value: white-space runs become one space, ends trimmed. */
export function normalizePrinted(value: string): string {
  if (!NEEDS_NORMALISING.test(value)) return value;
  return value
    .split(PRINT_SEPARATORS)
    .filter((word) => word !== '')
    .join(' ');
}

/**
 * The host name of `postconf -d myhostname` when Postfix had to append
 * ".localdomain" to it (gethostname() gave no dot). A host really named
 * NAME.localdomain looks the same; it would only matter with a main.cf
 * that sets mydomain and not myhostname.
 */
function dotlessHostName(defaults: ReadonlyMap<string, string>): string | undefined {
  const host = defaults.get('myhostname');
  if (host === undefined || !host.endsWith('.localdomain')) return undefined;
  const bare = host.slice(0, -'.localdomain'.length);
  return bare.includes('.') || bare === '' ? undefined : bare;
}

/** Defaults that also give what postconf computes per main.cf (defaults.ts's PostfixDefaults). */
interface ComputingDefaults extends ReadonlyMap<string, string> {
  mynetworks(configDirectory: string, basis: readonly string[]): string;
}

function computesMynetworks(defaults: ReadonlyMap<string, string>): defaults is ComputingDefaults {
  return typeof (defaults as Partial<ComputingDefaults>).mynetworks === 'function';
}

export interface ParameterSetOptions {
  /**
   * The directory main.cf was read from. `postconf -c DIR` reports DIR as
   * config_directory (and as $config_directory) unless main.cf sets it:
   * it enters DIR as a setting before loading main.cf. Without this option
   * the compiled-in default is used, as postmulti does for the primary;
   * postfleet itself takes every instance's config_directory from the
   * instance list, never from this set. The directory also names main.cf
   * in error messages.
   */
  readonly configDirectory?: string | undefined;
}

/**
 * The parameters of one main.cf in the context of the compiled-in
 * defaults: what `postconf -xc DIR -h NAME` prints, computed natively.
 */
export class ParameterSet {
  private readonly resolver: CachingResolver;
  private readonly printed = new Map<string, string>();
  private readonly source: string;

  constructor(
    private readonly settings: ReadonlyMap<string, string>,
    private readonly defaults: ReadonlyMap<string, string>,
    private readonly options: ParameterSetOptions = {},
  ) {
    this.resolver = new CachingResolver((name) => this.raw(name));
    this.source = options.configDirectory === undefined ? 'main.cf' : `${options.configDirectory}/main.cf`;
  }

  /** The unexpanded value postconf starts from: main.cf setting, else default; undefined if neither. */
  raw(name: string): string | undefined {
    const explicit = this.settings.get(name);
    if (explicit !== undefined) return explicit;
    if (name === 'config_directory' && this.options.configDirectory !== undefined) return this.options.configDirectory;
    if (name === 'myhostname' && this.settings.has('mydomain')) {
      // postconf's default is the host name, with "." and $mydomain (evaluated)
      // appended when it has no dot (pcf_check_myhostname()); `postconf -d`
      // shows it with "localdomain" in place of $mydomain. Evaluated without
      // myhostname, as postconf does while it computes it.
      const bare = dotlessHostName(this.defaults);
      if (bare !== undefined) {
        const withoutHostname = new ParameterSet(new Map([...this.settings, ['myhostname', '']]), this.defaults, this.options);
        return `${bare}.${withoutHostname.get('mydomain')}`;
      }
    }
    if (name === 'mynetworks' && computesMynetworks(this.defaults) && this.options.configDirectory !== undefined) {
      return this.defaults.mynetworks(this.options.configDirectory, [this.get('mynetworks_style'), this.get('inet_interfaces'), this.get('inet_protocols')]);
    }
    if (name === 'mydomain') {
      // postconf computes this default from the main.cf's own myhostname, raw
      // (pcf_check_mydomainname()): what follows its first dot, else localdomain.
      const host = this.settings.get('myhostname');
      if (host !== undefined) {
        const dot = host.indexOf('.');
        return dot >= 0 ? host.slice(dot + 1) : 'localdomain';
      }
    }
    return this.defaults.get(name);
  }

  /** Whether main.cf sets the parameter explicitly. */
  isExplicit(name: string): boolean {
    return this.settings.has(name);
  }

  /**
   * The fully expanded value as `postconf -x -h` prints it (white space
   * squeezed); "" for an unknown parameter (postconf prints nothing).
   * Throws PostfleetError where postconf dies with "macro processing error".
   */
  get(name: string): string {
    const done = this.printed.get(name);
    if (done !== undefined) return done;
    let value: string;
    const raw = this.raw(name);
    try {
      // Most values have nothing to expand: no resolver for them.
      value = normalizePrinted(raw === undefined || !raw.includes('$') ? raw ?? '' : this.resolver.expanded(name).text);
    } catch (e) {
      if (e instanceof MacroError) {
        throw new PostfleetError(`${this.source}: cannot expand ${name}: ${e.message}`);
      }
      throw e;
    }
    this.printed.set(name, value);
    return value;
  }
}
