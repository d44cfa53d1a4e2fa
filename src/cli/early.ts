/**
 * What bin/run.js does before it loads the program: start the one `postconf -d` that the
 * command is going to need (startDefaultsEarly()), so that it runs on the other core while the
 * modules load instead of after. Bundled on its own as dist/bundle/early.js (scripts/bundle.mjs),
 * with the first words of the commands that read the compiled-in defaults, as found in the
 * build's metafile: a command added later is counted in by the next build.
 */
import { startDefaultsEarly } from '../instances/maincf/defaults.js';

declare const POSTFLEET_DEFAULTS_WORDS: readonly string[];

/** `compat`: a postmulti-style argument vector (compat/main.ts always reads the defaults). */
export function startEarly(args: readonly string[], compat: boolean): void {
  const words = typeof POSTFLEET_DEFAULTS_WORDS === 'undefined' ? [] : POSTFLEET_DEFAULTS_WORDS;
  if (!compat && !(args[0] !== undefined && words.includes(args[0]))) return;
  try {
    startDefaultsEarly();
  } catch {
    // Only a head start: the command runs postconf itself and reports what goes wrong.
  }
}
