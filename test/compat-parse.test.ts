import { describe, expect, it } from 'vitest';
import { getopt } from '../src/compat/getopt.js';
import { isParseError, parseCompatArgs, usage, type CompatRequest } from '../src/compat/parse.js';

const P = 'postfleet';
const fatalOf = (args: string[]): readonly string[] => {
  const r = parseCompatArgs(args, P);
  if (!isParseError(r)) throw new Error(`expected an error for ${args.join(' ')}`);
  return r.lines;
};
const ok = (args: string[]): CompatRequest => {
  const r = parseCompatArgs(args, P);
  if (isParseError(r)) throw new Error(r.lines.join('\n'));
  return r;
};

describe('getopt', () => {
  it('clusters, attached and separate arguments, stops at the first operand and at --', () => {
    const r = getopt(['-lv', '-gmta', '-i', 'x', 'cmd', '-a'], 'ag:i:lv', P);
    expect(r.error).toBeUndefined();
    expect(r.options).toEqual([{ option: 'l' }, { option: 'v' }, { option: 'g', argument: 'mta' }, { option: 'i', argument: 'x' }]);
    expect(r.operands).toEqual(['cmd', '-a']);
    expect(getopt(['-p', '--', '-x'], 'px', P).operands).toEqual(['-x']);
  });
  it('reports glibc messages', () => {
    expect(getopt(['-z'], 'a', P).error).toBe("postfleet: invalid option -- 'z'");
    expect(getopt(['-g'], 'g:', P).error).toBe("postfleet: option requires an argument -- 'g'");
    expect(getopt(['--long'], 'a', P).error).toBe("postfleet: invalid option -- '-'");
  });
});

describe('parseCompatArgs: postmulti validation, in postmulti order', () => {
  const cases: Array<[string[], string]> = [
    [['-l', '-a', '-g', 'x'], "Specity no more than one of '-a', '-g', '-i'"],
    [['-l', '-p'], "Specify exactly one of '-e', '-l', '-p', '-x'"],
    [['-a'], "Specify exactly one of '-e', '-l', '-p', '-x'"],
    [['-l', '-e', 'init'], "Specify exactly one of '-e', '-l', '-p', '-x'"],
    [['-p'], "Command required with '-p' or '-x' option"],
    [['-x'], "Command required with '-p' or '-x' option"],
    [['-l', 'x'], "Command not allowed with '-l'"],
    [['-p', '-R', 'start'], "The '-p' and '-e' options preclude the use of '-R'"],
    [['-e', 'create', '-R'], "The '-p' and '-e' options preclude the use of '-R'"],
    [['-x', '-I', 'foo', 'ls'], "Cannot assign instance name or group without '-e assign'"],
    [['-e', 'enable', '-G', 'g'], "Cannot assign instance name or group with '-e enable'"],
    [['-e', 'bogus'], "Invalid '-e' edit action 'bogus'. Specify 'create', 'destroy', 'import', 'deport', 'enable', 'disable', 'assign' or 'init'"],
    [['-e', 'assign'], "Specify new instance name or group with '-e assign'"],
    [['-e', 'enable', 'x=y'], "Parameter overrides not valid with '-e enable'"],
    [['-I', 'a', '-I', 'b', '-e', 'create'], "Specify at most one '-I' option"],
    [['-G', 'a', '-G', 'b', '-e', 'create'], "Specify at most one '-G' option"],
    [['-j', '-p', 'start'], "JSON output available only with '-l'"],
    [['-P', '0', '-l'], "Invalid '-P' parallelism '0': specify a positive number"],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(' ')} -> ${message}`, () => {
      expect(fatalOf(args)).toEqual([`postfleet: fatal: ${message}`]);
    });
  }
  it('an unknown option prints getopt’s line, then the usage', () => {
    expect(fatalOf(['-z'])).toEqual(["postfleet: invalid option -- 'z'", `postfleet: fatal: ${usage(P)}`]);
  });
  it('an invalid -e is reported before a later unknown option (checked as read)', () => {
    expect(fatalOf(['-e', 'bogus', '-z'])[0]).toMatch(/Invalid '-e' edit action 'bogus'/);
  });
});

describe('parseCompatArgs: accepted command lines', () => {
  it('-g mta -p reload', () => {
    const r = ok(['-g', 'mta', '-p', 'reload']);
    expect(r.mode).toBe('postfix');
    expect(r.selection).toEqual({ type: 'group', group: 'mta' });
    expect(r.operands).toEqual(['reload']);
    expect(r.parallel).toBeUndefined();
  });
  it('the wrapper form -p -- start', () => {
    expect(ok(['-p', '--', 'start']).operands).toEqual(['start']);
  });
  it('-R twice cancels out (postmulti toggles it)', () => {
    expect(ok(['-p', '-R', '-R', 'start']).reverse).toBe(false);
  });
  it('-a twice counts once; -l twice is one mode', () => {
    expect(ok(['-a', '-a', '-l', '-l']).mode).toBe('list');
  });
  it('-I - clears, -P sets parallelism, -x keeps its command options', () => {
    const r = ok(['-I', '-', '-G', 'g', '-e', 'assign', '-i', 'x']);
    expect(r.assignName).toBe('');
    expect(r.assignGroup).toBe('g');
    expect(ok(['-P', '4', '-p', 'start']).parallel).toBe(4);
    // -F (fast start) is asked for, e.g. in multi_instance_wrapper = postfleet -F -p --; never by default.
    expect(ok(['-F', '-p', '--', 'start']).fastStart).toBe(true);
    expect(ok(['-p', 'start']).fastStart).toBe(false);
    expect(fatalOf(['-F', '-l'])).toEqual(["postfleet: fatal: The '-F' option (fast start) is valid only with '-p'"]);
    expect(ok(['-x', 'ls', '-l']).operands).toEqual(['ls', '-l']);
  });
  it('-j with -l', () => {
    expect(ok(['-l', '-j']).json).toBe(true);
  });
});
