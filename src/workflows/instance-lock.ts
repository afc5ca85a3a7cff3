/**
 * duoInstanceLock: held by the one ingestion run of an instance that is in progress. Its workflow
 * id is derived from the instance, so a second run cannot start it while the first holds it.
 *
 * The holder sends `runState` as it learns what would need cleaning up (its staging, its
 * JupiterOne job) and `release` when it is done. If the holder closes without releasing — it was
 * terminated — Temporal asks this lock to cancel (parent close policy REQUEST_CANCEL), and the lock
 * aborts the job and removes the staging on the holder's behalf.
 */
import { CancellationScope, condition, isCancellation, setHandler } from '@temporalio/workflow';
import { proxyDuoJ1Activities } from './activity-proxies';
import { lockStateSignal, releaseLockSignal, type LockCleanupState } from './contract';

export async function duoInstanceLock(initial: LockCleanupState): Promise<void> {
  let state: LockCleanupState = { ...initial };
  let released = false;
  setHandler(lockStateSignal, (update) => {
    state = { ...state, ...update };
  });
  setHandler(releaseLockSignal, () => {
    released = true;
  });
  try {
    await condition(() => released);
  } catch (error) {
    if (!isCancellation(error)) throw error;
    await CancellationScope.nonCancellable(() => cleanUpAfterHolder(state));
    throw error;
  }
}

async function cleanUpAfterHolder(state: LockCleanupState): Promise<void> {
  if (state.jobId) {
    const shared = proxyDuoJ1Activities({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 5 } });
    await shared
      .abortSyncJob({
        instanceId: state.instanceId,
        jobId: state.jobId,
        reason: 'the ingestion run was terminated',
        ending: 'terminated',
      })
      .catch(() => undefined);
  }
  if (state.hostTaskQueue && state.runKey) {
    // If the holder's worker is gone too, its staging is swept when that worker starts again.
    const host = proxyDuoJ1Activities({
      taskQueue: state.hostTaskQueue,
      scheduleToStartTimeout: '1 minute',
      startToCloseTimeout: '1 minute',
      retry: { maximumAttempts: 2 },
    });
    await host.cleanupStaging({ runKey: state.runKey }).catch(() => undefined);
  }
}
