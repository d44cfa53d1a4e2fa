import { describe, expect, it } from 'vitest';

import { PostfleetError } from '../src/instances/errors.js';
import { expandValue, normalizePrinted, ParameterSet } from '../src/instances/maincf/expand.js';
import { parseMainCf } from '../src/instances/maincf/parse.js';

const table = (entries: Record<string, string>) => (name: string): string | undefined => entries[name];
const expand = (raw: string, entries: Record<string, string> = {}): string => expandValue(raw, table(entries));

describe('expandValue: references', () => {
  const vars = { a: 'A', b: '/B', empty: '' };

  it.each([
    ['$a', 'A'],
    ['${a}', 'A'],
    ['$(a)', 'A'],
    ['x$a.y', 'xA.y'],
    ['$a-$b', 'A-/B'],
    ['$ab', ''],
    ['${ a }', 'A'],
    ['$undefined/x', '/x'],
    ['${undefined}', ''],
    ['$empty', ''],
    ['no refs at all', 'no refs at all'],
  ])('%s', (raw, expected) => {
    expect(expand(raw, vars)).toBe(expected);
  });

  it('expands referenced values recursively', () => {
    expect(expand('$r1', { r1: '$r2/1', r2: '${r3}/2', r3: '$(r4)/3', r4: '/4' })).toBe('/4/3/2/1');
  });

  it('turns $$ into $ once per value', () => {
    expect(expand('a$$b$$$$c')).toBe('a$b$$c');
    expect(expand('$m/$$$m', { m: 'x$$y' })).toBe('x$y/$x$y');
    expect(expand('${m?{$$}}', { m: '1' })).toBe('$');
  });
});

describe('expandValue: conditionals', () => {
  const vars = { on: 'yes', off: '', chain: '$off' };

  it.each([
    ['${on?text}', 'text'],
    ['${off?text}', ''],
    ['${nope?text}', ''],
    ['${on:text}', ''],
    ['${off:text}', 'text'],
    ['${nope:text}', 'text'],
    // Without braces the text runs to the end: no ternary, no trimming.
    ['${on?a:b}', 'a:b'],
    ['${off?a:b}', ''],
    ['${on? x}', ' x'],
    ['${on?{a}:{b}}', 'a'],
    ['${off?{a}:{b}}', 'b'],
    ['${off?{a}:b c}', 'b c'],
    ['${ on ? {a} : {b} }', 'a'],
    ['${on?  {a}  }', 'a'],
    ['${off:{b}}', 'b'],
    ['${on?{${off?{x}:{$on}}}}', 'yes'],
    ['${on?{$(on)x}}', 'yesx'],
    ['$(on?(x))', '(x)'],
    ['$(on?{x})', 'x'],
    // The test looks at the raw value: "$off" is not empty.
    ['${chain?{raw}:{expanded}}', 'raw'],
  ])('%s', (raw, expected) => {
    expect(expand(raw, vars)).toBe(expected);
  });

  it('does not parse a branch that is not taken', () => {
    expect(expand('${off?{${}}}${on:$}', vars)).toBe('');
  });
});

describe('expandValue: relational expressions', () => {
  const vars = { lvl: '3.6', n: '10' };

  it.each([
    ['${{$lvl} == {3.6}}', 'true'],
    ['${{$lvl} != {3.6}}', ''],
    ['${{$lvl}=={3.6}?{eq}:{ne}}', 'eq'],
    ['${{$n} < {9} ? {lt} : {ge}}', 'ge'],
    ['${{010} == {$n}}', 'true'],
    ['${{a} < {b}}', 'true'],
    ['${{} < {1}}', 'true'],
    ['${{x} == {y}?same}', ''],
    ['${{x} == {y}:differ}', 'differ'],
    ['${{3.6} <level {3.10}}', 'true'],
    ['${{3} ==level {3.0.0}}', 'true'],
    ['${{3.06} ==level { 3.6}}', 'true'],
    ['${{2.1.1} >level {2.1}}', 'true'],
    ['${{1} !=level {1}}', ''],
  ])('%s', (raw, expected) => {
    expect(expand(raw, vars)).toBe(expected);
  });
});

describe('expandValue: errors postconf treats as fatal', () => {
  it.each([
    ['x$', 'empty macro name'],
    ['x$ y', 'empty macro name'],
    ['${}', 'empty macro name'],
    ['${abc', 'truncated macro reference'],
    ['$(a}', 'truncated macro reference'],
    ['${a-b}', 'attribute name syntax error'],
    ['${a b}', 'attribute name syntax error'],
    ['${a?{x}junk}', '":" expected'],
    ['${a?{x}:{y}z}', 'unexpected input'],
    ['${a?{x}', 'truncated macro reference'],
    ['$(a?{x)', 'unbalanced {}'],
    ['${{a}}', 'expected at'],
    ['${{a}={a}}', 'expected at'],
    ['${{a} == b}', '"{expression}" expected'],
    ['${{a} == {a} x}', '"?" or ":" expected'],
    ['${{a} ==lvl {a}}', 'bad operator suffix'],
    ['${{a} <level {1}}', 'malformed compatibility level'],
    ['${{3.6.} <level {1}}', 'malformed compatibility level'],
    ['${{99999999999999999999} < {1}}', 'bad conversion'],
  ])('%s', (raw, message) => {
    expect(() => expand(raw, { a: 'A' })).toThrow(PostfleetError);
    expect(() => expand(raw, { a: 'A' })).toThrow(message);
  });

  it('finds errors inside referenced values', () => {
    expect(() => expand('$bad', { bad: '${' })).toThrow('truncated macro reference');
  });
});

describe('expandValue: nesting limit', () => {
  const chain = (n: number, last: string): Record<string, string> => {
    const vars: Record<string, string> = {};
    for (let i = 1; i < n; i++) vars[`c${i}`] = `$c${i + 1}`;
    vars[`c${n}`] = last;
    return vars;
  };

  it('allows 100 nested references ending in text, not 101 (as Postfix)', () => {
    expect(expand('$c1', chain(100, '/end'))).toBe('/end');
    expect(() => expand('$c1', chain(101, '/end'))).toThrow('unreasonable macro call nesting');
  });

  it('counts an empty end of chain as no call', () => {
    expect(expand('$c1', chain(100, ''))).toBe('');
    expect(() => expand('$c1', chain(101, '$undefined'))).toThrow('unreasonable macro call nesting');
  });

  it('counts the depth where a cached value is used', () => {
    // c51 is expanded (and cached) on its own first, then met again deeper
    // down the chain from c1; $top nests exactly 101 calls deep.
    const vars = { ...chain(99, '/end'), top: '$c51$c1' };
    expect(expand('$top', vars)).toBe('/end/end');
    expect(() => expand('${top?{$top}}', vars)).toThrow('unreasonable macro call nesting');
  });

  it('reports loops, naming the parameters', () => {
    expect(() => expand('$a', { a: '$b', b: '$a' })).toThrow('$a -> $b -> $a');
    expect(() => expand('$a', { a: 'x/$a' })).toThrow('$a -> $a');
  });

  it('reports a loop through a relational operand (postconf crashes on it)', () => {
    expect(() => expand('$x', { x: '${{$x} == {1}}' })).toThrow('unreasonable macro call nesting');
  });

  it('survives very long reference chains without overflowing the stack', () => {
    const vars: Record<string, string> = {};
    for (let i = 1; i < 20000; i++) vars[`r${i}`] = `\${{$r${i + 1}} == {x}}`;
    vars['r20000'] = 'x';
    expect(() => expand('$r1', vars)).toThrow(PostfleetError);
    let nested = 'x';
    for (let i = 0; i < 5000; i++) nested = `\${{${nested}} == {x}}`;
    expect(() => expand(nested)).toThrow(PostfleetError);
  });

  it('follows reference chains through relational operands, which restart the count', () => {
    const vars: Record<string, string> = {};
    for (let i = 1; i < 150; i++) vars[`r${i}`] = `\${{$r${i + 1}} == {x}}`;
    vars['r150'] = 'x';
    expect(expand('$r1', vars)).toBe('');
    expect(expand('$r149', vars)).toBe('true');
  });
});

describe('normalizePrinted', () => {
  it('squeezes what postconf squeezes, and only that', () => {
    expect(normalizePrinted('  a \t b\r\n c  ')).toBe('a b c');
    expect(normalizePrinted('a\fb\vc')).toBe('a\fb\vc');
    expect(normalizePrinted('')).toBe('');
  });
});

describe('ParameterSet', () => {
  const defaults = new Map([
    ['config_directory', '/etc/postfix'],
    ['queue_directory', '/var/spool/postfix'],
    ['data_directory', '/var/lib/postfix'],
    ['multi_instance_enable', 'no'],
    ['mydestination', '$myhostname, localhost.$mydomain'],
    ['myhostname', 'host.example'],
    ['mydomain', 'example'],
  ]);
  const set = (text: string, configDirectory?: string): ParameterSet =>
    new ParameterSet(parseMainCf(text), defaults, { configDirectory });

  it('prefers main.cf settings over defaults, and expands both in main.cf context', () => {
    const p = set('queue_directory = /q\ndata_directory = ${queue_directory}/data\nmyhostname = mx.test\n');
    expect(p.get('queue_directory')).toBe('/q');
    expect(p.get('data_directory')).toBe('/q/data');
    // postconf derives mydomain from main.cf's myhostname (after its first dot).
    expect(p.get('mydestination')).toBe('mx.test, localhost.test');
    expect(p.get('multi_instance_enable')).toBe('no');
  });

  it('gives raw values, and tells set from defaulted from unknown', () => {
    const p = set('data_directory = $queue_directory/d\n');
    expect(p.raw('data_directory')).toBe('$queue_directory/d');
    expect(p.raw('mydestination')).toBe('$myhostname, localhost.$mydomain');
    expect(p.raw('no_such')).toBeUndefined();
    expect([p.raw('data_directory') !== undefined, p.raw('queue_directory') !== undefined, p.raw('no_such')]).toEqual([true, true, undefined]);
    expect([p.isExplicit('data_directory'), p.isExplicit('queue_directory')]).toEqual([true, false]);
    expect(p.get('no_such')).toBe('');
  });

  it('squeezes white space as postconf prints it', () => {
    expect(set('multi_instance_directories = /a,\n\t/b   /c \n').get('multi_instance_directories')).toBe('/a, /b /c');
  });

  it('reports config_directory as postconf -c DIR does, unless main.cf sets it', () => {
    expect(set('queue_directory = $config_directory/q\n', '/etc/postfix-a').get('queue_directory')).toBe('/etc/postfix-a/q');
    expect(set('', '/etc/postfix-a').get('config_directory')).toBe('/etc/postfix-a');
    expect(set('config_directory = /x\n', '/etc/postfix-a').get('config_directory')).toBe('/x');
    expect(set('').get('config_directory')).toBe('/etc/postfix');
  });

  it('throws a PostfleetError naming main.cf and the parameter on a loop', () => {
    const p = set('a = $b\nb = $a\nqueue_directory = $a\n', '/etc/postfix-a');
    expect(() => p.get('queue_directory')).toThrow(PostfleetError);
    expect(() => p.get('queue_directory')).toThrow(
      '/etc/postfix-a/main.cf: cannot expand queue_directory: unreasonable macro call nesting: $a -> $b -> $a',
    );
    // Other parameters stay readable.
    expect(p.get('data_directory')).toBe('/var/lib/postfix');
  });

  it('reads 1000 main.cf files, each in its own context (speed is measured in bench/)', () => {
    const texts = Array.from({ length: 1000 }, (_, i) =>
      [
        '# instance',
        `queue_directory = /var/spool/postfix-${i}`,
        'data_directory = ${queue_directory}/data',
        `multi_instance_name = postfix-${i}`,
        'multi_instance_group = mta',
        'multi_instance_enable = yes',
        'authorized_submit_users =',
        'master_service_disable = inet',
        'smtpd_banner = $myhostname ESMTP',
        'mydestination = $myhostname, localhost',
      ].join('\n'),
    );
    const names = ['config_directory', 'queue_directory', 'data_directory', 'multi_instance_name', 'multi_instance_group', 'multi_instance_enable'];
    const queues = texts.map((text) => {
      const p = new ParameterSet(parseMainCf(text), defaults);
      for (const name of names) p.get(name);
      return [p.get('queue_directory'), p.get('data_directory')];
    });
    expect(queues[999]).toEqual(['/var/spool/postfix-999', '/var/spool/postfix-999/data']);
    expect(new Set(queues.map((q) => q[0])).size).toBe(1000);
  });
});
