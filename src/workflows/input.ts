/**
 * The workflow input, checked whole before a run takes its instance: a run that would fail on its
 * input must not hold the instance (and turn every other run away) while it does. Pure functions,
 * safe in the workflow sandbox.
 */
import { INSTANCE_ID_RULE, isInstanceId } from '../config/instance-id';
import {
  DEFAULT_DEADLINE_SECONDS,
  RESOURCES,
  type DuoIngestionInput,
  type DuoIngestionProgress,
  type IngestionTuning,
} from './contract';

/** The accepted range of each tuning value (whole numbers). */
export const TUNING_RANGES: Record<keyof IngestionTuning, { min: number; max: number }> = {
  heartbeatTimeoutSeconds: { min: 1, max: 3600 },
  fetchHeartbeatTimeoutSeconds: { min: 1, max: 3600 },
  hostScheduleToStartSeconds: { min: 1, max: 3600 },
  maxPipelineRestarts: { min: 0, max: 10 },
  deadlineSeconds: { min: 10, max: 7 * 86_400 },
};

export interface ValidInput {
  instanceId: string;
  tuning: IngestionTuning & { deadlineSeconds: number };
}

/** Every problem with the input, each naming its field; empty when the input is good. */
export function inputProblems(input: unknown): string[] {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return ['the input must be a JSON object like {"instanceId": "<id>"}'];
  }
  const problems: string[] = [];
  const { instanceId, tuning, ...rest } = input as Record<string, unknown>;
  if (!isInstanceId(instanceId)) {
    problems.push(`instanceId must be a string of ${INSTANCE_ID_RULE}; got ${JSON.stringify(instanceId) ?? 'nothing'}`);
  }
  for (const key of Object.keys(rest)) problems.push(`${key} is not an input field (fields: instanceId, tuning)`);
  if (tuning !== undefined) {
    if (tuning === null || typeof tuning !== 'object' || Array.isArray(tuning)) {
      problems.push('tuning must be an object');
    } else {
      for (const [key, value] of Object.entries(tuning)) {
        const range = TUNING_RANGES[key as keyof IngestionTuning];
        if (!range) {
          problems.push(`tuning.${key} is not a tuning value (values: ${Object.keys(TUNING_RANGES).join(', ')})`);
        } else if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
          problems.push(
            `tuning.${key} must be a whole number from ${range.min} to ${range.max}; got ${JSON.stringify(value)}`,
          );
        }
      }
    }
  }
  return problems;
}

/** The input with defaults applied; call only when `inputProblems` found none. */
export function withDefaults(input: DuoIngestionInput): ValidInput {
  const tuning = input.tuning ?? {};
  return {
    instanceId: input.instanceId,
    tuning: { ...tuning, deadlineSeconds: tuning.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS },
  };
}

/** One line for the Temporal UI's "current details": where the run is. */
export function progressLine(progress: DuoIngestionProgress): string {
  const attempt = progress.attempt > 1 ? ` (pipeline attempt ${progress.attempt})` : '';
  const resources = RESOURCES.map((resource) => {
    const outcome = progress.resources[resource];
    if (outcome.status === 'complete') return `${resource} ${outcome.records ?? 0} ✓`;
    if (outcome.status === 'failed') return `${resource} ✗`;
    return outcome.status === 'running' ? `${resource} …` : resource;
  });
  const job = progress.jobId ? ` · JupiterOne job ${progress.jobId}` : '';
  const deadline = progress.deadline ? ` · deadline ${progress.deadline}` : '';
  return `${progress.instanceId}: ${progress.phase}${attempt} — ${resources.join(' · ')}${job}${deadline}`;
}
