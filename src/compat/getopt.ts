/**
 * POSIX getopt() with glibc's "+" (stop at the first non-option) behaviour and
 * its diagnostics, as Postfix's GETOPT() uses on Linux.
 */
interface ParsedOption {
  readonly option: string;
  readonly argument?: string;
}

/**
 * Options in order; `error` is glibc's message for the option that stopped
 * the scan, which the caller reports only after acting on the ones before it
 * (postmulti checks some options as getopt() returns them).
 */
export interface GetoptResult {
  readonly options: ParsedOption[];
  readonly operands: string[];
  readonly error?: string;
}

export function getopt(args: readonly string[], spec: string, prog: string): GetoptResult {
  const withArg = new Set<string>();
  const known = new Set<string>();
  for (let k = 0; k < spec.length; k++) {
    const c = spec[k]!;
    if (c === ':') continue;
    known.add(c);
    if (spec[k + 1] === ':') withArg.add(c);
  }
  const options: ParsedOption[] = [];
  let i = 0;
  while (i < args.length) {
    const arg = args[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    let j = 1;
    while (j < arg.length) {
      const c = arg[j]!;
      if (!known.has(c)) return { options, operands: [], error: `${prog}: invalid option -- '${c}'` };
      if (withArg.has(c)) {
        if (j + 1 < arg.length) {
          options.push({ option: c, argument: arg.slice(j + 1) });
        } else if (i + 1 < args.length) {
          options.push({ option: c, argument: args[i + 1]! });
          i++;
        } else {
          return { options, operands: [], error: `${prog}: option requires an argument -- '${c}'` };
        }
        break;
      }
      options.push({ option: c });
      j++;
    }
    i++;
  }
  return { options, operands: args.slice(i) };
}
