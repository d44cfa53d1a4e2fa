import { it } from 'vitest';
import { Sandbox } from './helpers/sandbox.js';
it('scratch', async () => {
  const sb = await Sandbox.create();
  try {
    const script = (await import('node:fs')).readFileSync('/tmp/scratch.sh', 'utf8');
    const r = await sb.run(script, { tty: true });
    console.log(r.stdout, r.stderr, r.exitCode);
  } finally { await sb.dispose(); }
}, 300_000);
