/**
 * The activities of each run in progress on this worker, so that cleaning up a run stops them
 * first. Removing a run's staging while one of its fetches still writes would leave behind what the
 * fetch writes next (raw Duo records: personal data, on disk until the next worker start), and a
 * writer that finds the folder gone would create it again. The workflow already waits for its
 * cancelled activities before it cleans up; this covers the paths where nobody waits — a run
 * terminated, its instance coordinator cleaning up for it.
 */
import { StagedInputMissingError } from '../staging/store';

interface RunningActivity {
  controller: AbortController;
  settled: Promise<unknown>;
}

/** Run keys remembered as removed (a worker handles a few runs an hour; this is days of them). */
const REMEMBERED_REMOVED_RUNS = 10_000;

export class RunActivities {
  private readonly running = new Map<string, Set<RunningActivity>>();
  private readonly removed = new Set<string>();

  /**
   * Runs `body` as an activity of run `runKey`. The signal it gets aborts when the activity is
   * cancelled (`cancellation`) or when the run's staging is about to be removed. Refused once the
   * run's staging was removed: nothing may write there again.
   */
  async run<T>(runKey: string, cancellation: AbortSignal, body: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.removed.has(runKey)) {
      throw new StagedInputMissingError(runKey, '(every dataset)', 'the run’s staging was removed: the run is over');
    }
    const controller = new AbortController();
    const work = body(AbortSignal.any([cancellation, controller.signal]));
    const activity: RunningActivity = { controller, settled: work.catch(() => undefined) };
    let activities = this.running.get(runKey);
    if (!activities) this.running.set(runKey, (activities = new Set()));
    activities.add(activity);
    try {
      return await work;
    } finally {
      activities.delete(activity);
      if (activities.size === 0 && this.running.get(runKey) === activities) this.running.delete(runKey);
    }
  }

  /**
   * Stops the run's activities on this worker and resolves once every one of them has ended; from
   * then on the run's activities are refused.
   */
  async stop(runKey: string): Promise<void> {
    this.removed.add(runKey);
    if (this.removed.size > REMEMBERED_REMOVED_RUNS) this.removed.delete(this.removed.values().next().value!);
    const activities = [...(this.running.get(runKey) ?? [])];
    for (const { controller } of activities) {
      controller.abort(new Error('The run’s staging is being removed: the run is over.'));
    }
    await Promise.all(activities.map(({ settled }) => settled));
  }
}
