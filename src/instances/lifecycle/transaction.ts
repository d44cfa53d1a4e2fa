/**
 * One transaction for everything a command changes. The plan is made first from a snapshot
 * read without the lock, so bad input is refused before anything is touched (Postfix's
 * main.cf.tmp lock file included); --dry-run reports that plan. Otherwise the primary
 * main.cf is locked (the lock `postconf -e` takes), a fresh snapshot is read and planned
 * again (concurrent changes are never lost), every instance's steps are applied, and the
 * primary main.cf is written last, atomically. If a step, that write, or a signal stops it,
 * everything done is undone in reverse and the error names the file.
 */
import pMap from 'p-map';
import { PostfleetError } from '../errors.js';
import { loadFleet, type MainCfReader } from '../registry.js';
import { SettingsCache } from '../maincf/settings-cache.js';
import { editMainCf } from '../maincf/edit.js';
import { lockMainCfs, withMainCfLock, withUndoProblems } from '../maincf/write.js';
import { changesAnything, type InstancePlan, type Plan } from './plan.js';
import { reportOf, type ChangeReport } from './report.js';
import { readSnapshot, type Snapshot, type SnapshotNeeds, type SnapshotSource } from './snapshot.js';
import { applySteps, problemLines, restoreMainCf, UndoLog } from './execute.js';

export interface LifecycleContext extends SnapshotSource {
  readonly dryRun?: boolean | undefined;
}

export type Planner = (snap: Snapshot) => Plan;

/** Instance main.cf edits in flight at once. */
const EDITS_IN_FLIGHT = 8;
/** Destroyed instances whose files are removed at once. */
const RELEASES_IN_FLIGHT = 8;
/** Instance main.cf locks taken together (one process for each batch: maincf/write.ts's lockMainCfs()). */
const LOCK_BATCH = 64;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export async function transact(ctx: LifecycleContext, needs: SnapshotNeeds, plan: Planner): Promise<ChangeReport> {
  return (await transactUndoable(ctx, needs, plan)).report;
}

/** A transaction's report, and its undo log kept past the commit: what a roll-out needs to undo a batch that turns out unhealthy. */
export interface Transaction {
  readonly report: ChangeReport;
  /** Every file change made, the primary main.cf's last, each scoped to its instance; empty for a dry run or no change. */
  readonly undo: UndoLog;
}

export async function transactUndoable(ctx: LifecycleContext, needs: SnapshotNeeds, plan: Planner): Promise<Transaction> {
  // The fleet is read to plan, and again under the lock: the second time only the main.cf files that changed.
  const read = ctx.readSettings ?? SettingsCache.memory().read;
  const preview = readSnapshot(ctx, needs, undefined, read);
  const previewPlan = plan(preview);
  const primaryDir = preview.fleet.primaryConfigDirectory;
  const undo = new UndoLog();
  if (ctx.dryRun || !changesAnything(previewPlan, preview.primaryMainCf)) {
    return { report: reportOf(previewPlan, { configDirectory: primaryDir, mainCf: preview.primaryMainCf }, Boolean(ctx.dryRun), []), undo };
  }
  const warnings: string[] = [];
  const done = await interruptible((checkpoint) =>
    withMainCfLock(primaryDir, async (current) => {
      const snap = readSnapshot(ctx, needs, current, read);
      const p = plan(snap);
      try {
        await applyInstances(p, undo, warnings, checkpoint);
        checkpoint();
      } catch (e) {
        const problems = problemLines(await undo.rollback());
        throw e instanceof Interrupted && problems.length === 0 ? new PostfleetError(`${e.message}: nothing was changed`, { exitCode: e.exitCode }) : withUndoProblems(e, problems);
      }
      const next = p.primaryEdits.length > 0 ? editMainCf(current, p.primaryEdits) : current;
      return { next: next !== current ? next : undefined, result: { plan: p, current, next }, rollback: async () => problemLines(await undo.rollback()) };
    }),
  );
  if (done.next !== done.current) {
    // Committed: a later undo (a roll-out's) puts the primary main.cf back too, if nobody changed it since.
    const primary = done.plan.instances.find((i) => i.primary)?.configDirectory;
    undo.push(`${primaryDir}/main.cf`, () => restoreMainCf(primaryDir, done.next, done.current, undefined), primary);
  }
  const releases = done.plan.instances.flatMap((i) => (i.release ? [i.release] : []));
  if (releases.length > 0) warnings.push(...(await release(ctx, primaryDir, releases, read)));
  return { report: reportOf(done.plan, { configDirectory: primaryDir, mainCf: done.current }, false, warnings), undo };
}

/** A signal caught during the transaction: thrown at the next checkpoint, and the change is undone. */
class Interrupted extends PostfleetError {}

async function applyInstances(p: Plan, undo: UndoLog, warnings: string[], checkpoint: () => void): Promise<void> {
  const withSteps = p.instances.filter((i) => i.steps.length > 0);
  if (!p.independent) {
    for (const i of withSteps) await applySteps(i.steps, undo, warnings, { checkpoint, scope: i.configDirectory });
    return;
  }
  // Several instances' main.cf edits at once, their locks taken a batch at a time; after a
  // failure none is started, the ones in flight finish, and then everything is undone.
  let failure: { error: unknown } | undefined;
  for (let start = 0; start < withSteps.length && !failure; start += LOCK_BATCH) {
    const batch = withSteps.slice(start, start + LOCK_BATCH);
    checkpoint();
    // Never the primary's (its edits are the transaction's own write, under the lock held already).
    const edited = batch.flatMap((i) => i.steps.flatMap((s) => (s.kind === 'edit' && !i.primary ? [s.configDirectory] : [])));
    const locks = await lockMainCfs(edited);
    try {
      await pMap(
        batch,
        async (i: InstancePlan) => {
          if (failure) return;
          try {
            await applySteps(i.steps, undo, warnings, { checkpoint, locks, scope: i.configDirectory });
          } catch (error) {
            failure ??= { error };
          }
        },
        { concurrency: EDITS_IN_FLIGHT },
      );
    } finally {
      await locks.release();
    }
  }
  if (failure) throw failure.error;
}

/**
 * The files of the instances the primary no longer lists (destroy), removed under the lock
 * again, all of them in one hold of it: if a concurrent create or import took one of an
 * instance's directories over since, they are that instance's now and nothing of it is removed.
 */
async function release(ctx: LifecycleContext, primaryDir: string, releases: ReadonlyArray<NonNullable<InstancePlan['release']>>, read: MainCfReader): Promise<string[]> {
  return withMainCfLock(primaryDir, async () => {
    const fleet = loadFleet({ configDirectory: ctx.primaryConfigDirectory, defaults: ctx.defaults, read });
    // Each instance's removal in its order; several instances at once, their warnings in plan order.
    const warnings = await pMap(
      releases,
      async (r) => {
        const taken = r.directories.find((d) => fleet.claims.ownerOf(d) !== undefined);
        if (taken !== undefined) return [`${taken} is in use again by instance ${fleet.claims.ownerOf(taken)}: its files were left in place`];
        const own: string[] = [];
        await applySteps(r.steps, new UndoLog(), own);
        return own;
      },
      { concurrency: RELEASES_IN_FLIGHT },
    );
    return { result: warnings.flat() };
  });
}

/**
 * Runs `fn` with SIGINT, SIGTERM and SIGHUP held off: a signal makes the next checkpoint
 * throw, so the transaction is undone instead of left half-done; the process then exits
 * with the signal's status.
 */
async function interruptible<T>(fn: (checkpoint: () => void) => Promise<T>): Promise<T> {
  let caught: NodeJS.Signals | undefined;
  const handlers = SIGNALS.map((sig) => {
    const h = (): void => {
      caught ??= sig;
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  const checkpoint = (): void => {
    if (caught) throw new Interrupted(`interrupted by ${caught}`, { exitCode: 128 + signalNumber(caught) });
  };
  try {
    const result = await fn(checkpoint);
    // Caught after the last checkpoint: the change is whole; the exit status still tells.
    if (caught) process.exitCode = 128 + signalNumber(caught);
    return result;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

function signalNumber(sig: NodeJS.Signals): number {
  return { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[sig as 'SIGHUP'] ?? 1;
}
