// Child process for test/maincf-write.test.ts: drives the compiled main.cf
// writer from a separate process, so that locking is exercised between
// processes and a process can be killed in the middle of a write.
//
//   POSTFLEET_WRITE_MODULE=<file URL of compiled write.js> node maincf-writer.mjs <command> <configDir> ...
//
//   set DIR NAME VALUE   one editMainCfFile() set
//   loop DIR PADDING     endless writes of counter = 1, 2, ... plus a padding
//                        setting of PADDING bytes; prints "wrote N" after each
//   hold DIR             takes the lock, prints "locked", and never lets go
//   hold-set DIR NAME VALUE  takes the lock, prints "locked", waits for a line on stdin,
//                        then writes NAME = VALUE under that lock; prints the error if any
import process from 'node:process';

const moduleUrl = process.env.POSTFLEET_WRITE_MODULE;
if (!moduleUrl) {
  console.error('POSTFLEET_WRITE_MODULE is not set');
  process.exit(2);
}
const { editMainCfFile, withMainCfLock } = await import(moduleUrl);
const [command, dir, ...rest] = process.argv.slice(2);

switch (command) {
  case 'set': {
    const [name, value] = rest;
    const { changed } = await editMainCfFile(dir, [{ op: 'set', name, value }]);
    console.log(changed ? 'changed' : 'unchanged');
    break;
  }
  case 'loop': {
    const padding = 'p'.repeat(Number(rest[0]));
    for (let i = 1; ; i++) {
      await editMainCfFile(dir, [
        { op: 'set', name: 'counter', value: String(i) },
        { op: 'set', name: 'padding', value: padding },
      ]);
      console.log(`wrote ${i}`);
    }
  }
  case 'hold': {
    await withMainCfLock(dir, async () => {
      console.log('locked');
      // A pending promise alone would let Node exit; a timer keeps it alive.
      await new Promise(() => setInterval(() => {}, 60_000));
      return { result: undefined };
    });
    break;
  }
  case 'hold-set': {
    const [name, value] = rest;
    try {
      await withMainCfLock(dir, async (current) => {
        console.log('locked');
        await new Promise((resolve) => process.stdin.once('data', resolve));
        return { next: `${current}${name} = ${value}\n`, result: undefined };
      });
      console.log('written');
    } catch (e) {
      console.log(`error: ${e.message}`);
    }
    process.exit(0);
    break;
  }
  default:
    console.error(`unknown command ${command}`);
    process.exit(2);
}
