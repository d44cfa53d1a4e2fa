/**
 * oclif's flush(), which execute.ts calls after every run, for the direct route (direct.ts,
 * direct-command.ts): wait until stdout has taken what was written, at most `ms`; then
 * `timedOut()` says what to throw (oclif: error('timed out')).
 */
export async function flush(timedOut: () => Error, ms = 10_000): Promise<void> {
  const drained = new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
  if (process.stdout.write('')) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(timedOut()), ms);
    timer.unref();
  });
  await Promise.race([drained, timeout]);
  clearTimeout(timer);
}
