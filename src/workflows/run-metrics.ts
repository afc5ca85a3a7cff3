/**
 * A run's outcome and the durations of its phases, as duo-j1 metrics (`duo_j1_runs`,
 * `duo_j1_phase_duration_seconds`; see src/telemetry/activity-metrics.ts for the others). Recorded
 * through the workflow's metric meter: the SDK emits nothing while a workflow replays, so a run is
 * counted once however often its history is replayed, and recording creates no command — it does
 * not change what a replay checks.
 */
import { metricMeter } from '@temporalio/workflow';
import type { DuoIngestionResult, RunOutcomeLabel } from './contract';

const RUNS = 'duo_j1_runs';
const PHASE_DURATION = 'duo_j1_phase_duration_seconds';

/** Counts a finished run by instance and outcome; a delivered one also records how long each phase took. */
export function recordRun(instanceId: string, outcome: RunOutcomeLabel, result?: DuoIngestionResult): void {
  metricMeter
    .createCounter(RUNS, 'runs', 'Runs finished, by instance and outcome')
    .add(1, { instance: instanceId, outcome });
  if (!result) return;
  const durations = metricMeter.createHistogram(
    PHASE_DURATION,
    'float',
    'seconds',
    'How long each phase of a delivered run took (validate, fetch, build, deliver, total)',
  );
  for (const [phase, ms] of Object.entries(result.durationsMs))
    durations.record(ms / 1000, { instance: instanceId, phase });
}
