import { describe, expect, it } from 'vitest';
import { oneLineMessage } from '../src/cli/base.js';

describe('oneLineMessage: oclif parse errors on one line that names the offending value', () => {
  it.each([
    ['Parsing --parallel \n\tExpected an integer greater than or equal to 1 but received: 0\nSee more help with --help', 'Parsing --parallel: Expected an integer greater than or equal to 1 but received: 0'],
    ['Missing 1 required arg:\ncommand  postfix(1) command, then its arguments\nSee more help with --help', 'Missing 1 required arg: command postfix(1) command, then its arguments'],
    [
      'The following errors occurred:\n  --all=true cannot also be provided when using --group\n  --group=mta cannot also be provided when using --all\nSee more help with --help',
      '--all=true cannot also be provided when using --group; --group=mta cannot also be provided when using --all',
    ],
    ['Nonexistent flag: --bogus\nSee more help with --help', 'Nonexistent flag: --bogus'],
    ['no instance matches \'x\'', "no instance matches 'x'"],
  ])('%j', (message, line) => {
    expect(oneLineMessage(message)).toBe(line);
  });
});
