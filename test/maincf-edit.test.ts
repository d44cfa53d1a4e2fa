import { describe, expect, it } from 'vitest';

import { checkMainCfEdits, editMainCf, normalizeMainCfValue } from '../src/instances/maincf/edit.js';
import type { MainCfEdit } from '../src/instances/maincf/edit.js';
import { PostfleetError } from '../src/instances/errors.js';

const set = (name: string, value: string): MainCfEdit => ({ op: 'set', name, value });
const remove = (name: string): MainCfEdit => ({ op: 'remove', name });
const comment = (name: string): MainCfEdit => ({ op: 'comment', name });

describe('editMainCf: set', () => {
  it('replaces a setting where it stands and keeps every other byte', () => {
    const text = '# top\n\na = 1\n  # note\nb=2\nc = 3\n';
    expect(editMainCf(text, [set('b', '20')])).toBe('# top\n\na = 1\n  # note\nb = 20\nc = 3\n');
  });

  it('collapses a continued setting into one line', () => {
    const text = 'mynetworks = 127.0.0.0/8\n    10.0.0.0/8\n\t192.0.2.0/24\nnext = 1\n';
    expect(editMainCf(text, [set('mynetworks', '127.0.0.0/8')])).toBe('mynetworks = 127.0.0.0/8\nnext = 1\n');
  });

  it('keeps comment and blank lines inside a continued setting but drops its continuations', () => {
    const text = 'r =\n    permit,\n# why\n\n    reject\nnext = 1\n';
    expect(editMainCf(text, [set('r', 'x')])).toBe('r = x\n# why\n\nnext = 1\n');
  });

  it('appends new settings at the end in the order given', () => {
    expect(editMainCf('x = 1\n', [set('zz', '1'), set('aa', '2'), set('mm', '3')])).toBe(
      'x = 1\nzz = 1\naa = 2\nmm = 3\n',
    );
  });

  it('replaces every duplicate', () => {
    expect(editMainCf('a = 1\nb = 2\na = 3\n', [set('a', '9')])).toBe('a = 9\nb = 2\na = 9\n');
  });

  it('does not touch commented-out settings or settings whose name merely starts alike', () => {
    const text = '#relayhost = old\nrelayhost_port = 1\n';
    expect(editMainCf(text, [set('relayhost', 'new')])).toBe('#relayhost = old\nrelayhost_port = 1\nrelayhost = new\n');
  });

  it('matches names ended by a tab, "=" or a CR', () => {
    expect(editMainCf('a\t= 1\nb=2\nc = 3\r\n', [set('a', 'x'), set('b', 'y'), set('c', 'z')])).toBe(
      'a = x\nb = y\nc = z\n',
    );
  });

  it('terminates an unterminated last line before appending', () => {
    expect(editMainCf('a = 1\n# end', [set('b', '2')])).toBe('a = 1\n# end\nb = 2\n');
    expect(editMainCf('', [set('b', '2')])).toBe('b = 2\n');
  });

  it('keeps CRLF on untouched lines and writes LF on its own', () => {
    expect(editMainCf('a = 1\r\n\r\nb = 2\r\n', [set('a', '3'), set('c', '4')])).toBe('a = 3\n\r\nb = 2\r\nc = 4\n');
  });

  it('trims the value like postconf and keeps interior white space and $', () => {
    expect(editMainCf('', [set('smtpd_banner', ' \t$myhostname  ESMTP\t$mail_name \r')])).toBe(
      'smtpd_banner = $myhostname  ESMTP\t$mail_name\n',
    );
  });

  it('writes an empty value as "name = "', () => {
    expect(editMainCf('authorized_submit_users = root\n', [set('authorized_submit_users', '')])).toBe(
      'authorized_submit_users = \n',
    );
  });

  it('sets the same name twice: appended once, then replaced in place', () => {
    expect(editMainCf('x = 1\n', [set('a', '1'), set('b', '2'), set('a', '3')])).toBe('x = 1\na = 3\nb = 2\n');
  });

  it('is a no-op on text that already has the value in postconf form', () => {
    const text = '# c\na = 1\nb = two words\n';
    expect(editMainCf(text, [set('a', '1'), set('b', 'two words')])).toBe(text);
  });
});

describe('editMainCf: remove and comment', () => {
  const text = 'a = 1\nlist = x,\n    y,\n# inside\n\ty\nb = 2\n';

  it('removes a setting with its continuation lines, keeping comments in between', () => {
    expect(editMainCf(text, [remove('list')])).toBe('a = 1\n# inside\nb = 2\n');
  });

  it('comments out every line of the setting with a bare "#", indentation kept', () => {
    expect(editMainCf(text, [comment('list')])).toBe('a = 1\n#list = x,\n#    y,\n# inside\n#\ty\nb = 2\n');
  });

  it('removes and comments out every duplicate', () => {
    expect(editMainCf('a = 1\nb = 2\na = 3\n', [remove('a')])).toBe('b = 2\n');
    expect(editMainCf('a = 1\nb = 2\na = 3\n', [comment('a')])).toBe('#a = 1\nb = 2\n#a = 3\n');
  });

  it('keeps the CR of commented CRLF lines', () => {
    expect(editMainCf('a = 1\r\n  2\r\n', [comment('a')])).toBe('#a = 1\r\n#  2\r\n');
  });

  it('leaves absent names alone, apart from terminating the last line', () => {
    expect(editMainCf('a = 1', [remove('b'), comment('c')])).toBe('a = 1\n');
  });

  it('sets after a comment-out by appending, since the old line is now a comment', () => {
    expect(editMainCf('a = 1\nx = 2\n', [comment('a'), set('a', '3')])).toBe('#a = 1\nx = 2\na = 3\n');
  });

  it('treats a line starting with \\v or \\f as a continuation', () => {
    expect(editMainCf('a = 1\n\vmore\n\fmore\nb = 2\n', [remove('a')])).toBe('b = 2\n');
  });

  it('keeps continuation lines that precede any setting', () => {
    expect(editMainCf('  orphan\na = 1\n', [remove('a')])).toBe('  orphan\n');
  });
});

describe('editMainCf: C-string lines', () => {
  it('ends a line at a NUL, newline included, as postconf does', () => {
    expect(editMainCf('a = 1\nb = 2\0junk\nc = 3\n', [set('c', '4')])).toBe('a = 1\nb = 2c = 4\n');
  });
});

describe('input checks', () => {
  it.each(['', '-x', 'a b', 'a=b', '#a', 'a$b', 'a/b', 'a.b', 'ü', 'a\n'])('refuses the name %j', (name) => {
    expect(() => editMainCf('', [set(name, 'v')])).toThrow(PostfleetError);
    expect(() => editMainCf('', [remove(name)])).toThrow(PostfleetError);
    expect(() => editMainCf('', [comment(name)])).toThrow(PostfleetError);
  });

  it.each(['relayhost', 'smtp-amavis_destination_recipient_limit', '_x', '9lives', 'smtp_tls_CApath'])(
    'accepts the name %j',
    (name) => {
      expect(() => checkMainCfEdits([set(name, 'v'), remove(name), comment(name)])).not.toThrow();
    },
  );

  it('refuses a value with a newline, naming it, in one line, before editing anything', () => {
    let error: unknown;
    try {
      editMainCf('a = 1\n', [set('a', '2'), set('b', 'x\ny')]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PostfleetError);
    const pe = error as PostfleetError;
    expect(pe.message).toContain('x\\x0ay');
    expect(pe.message).not.toContain('\n');
    expect(pe.exitCode).not.toBe(0);
  });

  it('refuses a NUL in a value', () => {
    expect(() => editMainCf('', [set('a', 'x\0y')])).toThrow(/NUL/);
  });

  it('names the offending parameter name', () => {
    expect(() => editMainCf('', [set('bad name', 'v')])).toThrow(/"bad name"/);
  });
});

describe('normalizeMainCfValue', () => {
  it('strips what split_nameval strips', () => {
    expect(normalizeMainCfValue(' \t\v\f\r x  y \t\r')).toBe('x  y');
    expect(normalizeMainCfValue('   ')).toBe('');
    expect(normalizeMainCfValue('\u00a0x\u00a0')).toBe('\u00a0x\u00a0');
  });
});
