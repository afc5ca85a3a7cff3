import type { Client } from '@temporalio/client';
import type { AppConfig, InstanceConfig } from '../config/instances';
import type { DuoClientTuning } from '../duo/client';
import type { JupiterOneClientTuning } from '../jupiterone/client';
import type { StagingStore } from '../staging/store';
import type { DuoJ1Metrics } from '../telemetry/activity-metrics';
import { UnknownInstanceError } from './failures';

/** A structured log line sink; messages and fields never carry secrets. */
export type Logger = (
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void;

export interface ActivityDependencies {
  config: AppConfig;
  staging: StagingStore;
  /**
   * A Temporal client on the worker's connection and namespace: the activities that acquire and
   * release an instance, and those its coordinator uses to check on a holder, talk to Temporal.
   */
  temporalClient: Client;
  /** Where secret references (`{ env }`) are resolved; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** duo-j1's own metrics (Duo retries are counted where they happen, in the Duo client). */
  metrics?: DuoJ1Metrics;
  /** Given to every Duo client (the backoff schedule, an undici dispatcher, ...). */
  duoClientOptions?: DuoClientTuning;
  /** Given to every JupiterOne client (retry schedule, batch size, ...). */
  jupiterOneClientOptions?: JupiterOneClientTuning;
}

export function findInstanceOrFail(deps: ActivityDependencies, instanceId: string): InstanceConfig {
  const instance = deps.config.instances.find((candidate) => candidate.id === instanceId);
  if (!instance)
    throw new UnknownInstanceError(
      instanceId,
      deps.config.instances.map((i) => i.id),
    );
  return instance;
}
