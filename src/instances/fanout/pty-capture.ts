/**
 * Runs a child on a pseudo-terminal and captures everything it writes there: postfix(1),
 * postsuper and postlog print their messages only to a terminal.
 *
 * node-pty's own spawn loses the tail of a child's output on Linux now and then
 * (microsoft/node-pty#72): it reports the exit and closes the terminal within 200 ms whether
 * or not the last bytes were read. On a busy machine that was postsuper's last two lines of
 * a start. So here the terminal is opened by us and its slave side stays open until we are
 * done: the child gets a descriptor of its own on it (opened by name, so a blocking one, as
 * a terminal is for a program), and once the child has exited we write a marker through the
 * slave and read the master up to it. A terminal is first in, first out: whatever the child
 * wrote comes before the marker.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, constants, openSync, write } from 'node:fs';
import { strerror } from '../strerror.js';

interface Captured {
  readonly exitCode: number;
  /** Plain lines ending in \n (the terminal's \r\n made \n). */
  readonly output: string;
}

export type PtyCapture = (file: string, args: readonly string[], env: NodeJS.ProcessEnv) => Promise<Captured>;

/** The part of node-pty's `open()` (exported, though not in its typings) used here. */
interface OpenedPty {
  readonly master: NodeJS.ReadableStream & { destroy(): void };
  readonly slave: { destroy(): void };
  readonly ptsName: string;
}
type PtyOpen = (options: { cols: number; rows: number }) => OpenedPty;

export async function ptyCapture(): Promise<PtyCapture> {
  const { open } = (await import('@lydell/node-pty')) as unknown as { open: PtyOpen };
  return (file, args, env) =>
    new Promise((resolve) => {
      // Wide enough that no line of Postfix's is wrapped.
      const term = open({ cols: 400, rows: 50 });
      const fd = openSync(term.ptsName, constants.O_RDWR | constants.O_NOCTTY);
      const marker = `postfleet-end-of-output-${randomUUID()}`;
      let output = '';
      let exitCode: number | undefined;
      let finished = false;
      const finish = (text: string): void => {
        if (finished) return;
        finished = true;
        closeSync(fd);
        term.master.destroy();
        term.slave.destroy();
        resolve({ exitCode: exitCode ?? 1, output: normaliseTerminalOutput(text) });
      };
      term.master.on('data', (chunk: string) => {
        const from = Math.max(0, output.length - marker.length);
        output += chunk;
        const at = exitCode === undefined ? -1 : output.indexOf(marker, from);
        if (at >= 0) finish(output.slice(0, at));
      });
      // Our slave stays open, so the master never ends by itself; this is only a guard.
      term.master.on('close', () => finish(output));
      term.master.on('error', () => finish(output));

      // detached: a session of its own, as under node-pty's fork, out of reach of our
      // terminal's signals.
      const child = spawn(file, [...args], { env: { ...env, TERM: process.env['TERM'] ?? 'dumb' }, stdio: [fd, fd, fd], detached: true });
      child.once('error', (e: NodeJS.ErrnoException) => {
        exitCode = 1;
        finish(`execvp ${file}: ${e.code !== undefined ? strerror(e.code) : e.message}\n`);
      });
      // Killed by a signal: not WIFEXITED, which postmulti counts as status 1.
      child.once('exit', (code) => {
        if (finished) return;
        exitCode = code ?? 1;
        write(fd, `${marker}\n`, (e) => {
          if (e) finish(output);
        });
      });
    });
}

/** A terminal turns \n into \r\n; give back plain lines. */
function normaliseTerminalOutput(text: string): string {
  const plain = text.replace(/\r\n/g, '\n').replace(/\r/g, '');
  return plain === '' || plain.endsWith('\n') ? plain : plain + '\n';
}
