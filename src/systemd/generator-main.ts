// Entry of dist/bundle/systemd/generator.js (scripts/bundle.mjs), run by systemd/postfleet-generator.
import { runGenerator } from './generator.js';

process.exitCode = runGenerator(process.argv.slice(2));
