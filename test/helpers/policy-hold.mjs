// A policy server that never answers, for the probe and roll-out tests (inside a sandbox):
//
//   node policy-hold.mjs PORT MARKER READY [PASS]
//
// READY is written once it listens. The first PASS connections (default 0) are answered
// (action=DUNNO: no opinion) to every request. Each later connection is held open and noted by a line in MARKER: a probe's RCPT now waits on it
// (smtpd asks the policy server), a positive signal the test can wait for. On SIGUSR1 it lets
// go: every held connection and every later one is closed at once, so smtpd answers RCPT with
// "451 4.3.5 Server configuration problem".
import { appendFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';

const [port, marker, ready, pass = '0'] = process.argv.slice(2);
const held = new Set();
let released = false;
let passes = Number(pass);
const server = net.createServer((c) => {
  if (released) return c.destroy();
  if (passes > 0) {
    passes--;
    let request = '';
    c.on('data', (chunk) => {
      request += chunk;
      // A request ends with an empty line: answer it.
      for (let end; (end = request.indexOf('\n\n')) >= 0; request = request.slice(end + 2)) c.write('action=DUNNO\n\n');
    });
    c.on('error', () => undefined);
    return;
  }
  held.add(c);
  c.on('error', () => undefined);
  c.on('close', () => held.delete(c));
  appendFileSync(marker, 'held\n');
});
process.on('SIGUSR1', () => {
  released = true;
  for (const c of held) c.destroy();
});
server.listen(Number(port), '127.0.0.1', () => writeFileSync(ready, `${process.pid}\n`));
