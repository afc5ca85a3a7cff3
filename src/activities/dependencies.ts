import type { Client } from '@temporalio/client';
import type { AppConfig, InstanceConfig } from '../config/instances';
import type { ConversionAhead } from '../graph/conversion-ahead';
import type { StagingStore } from '../staging/store';
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
  /** Options passed to every Duo client (the backoff schedule, an undici dispatcher, ...). */
  duoClientOptions?: Record<string, unknown>;
  /** Options passed to every JupiterOne client (retry schedule, poll interval, batch size, ...). */
  jupiterOneClientOptions?: Record<string, unknown>;
  /**
   * Converts staged parts of large resources while the fetches run (src/graph/conversion-ahead.ts);
   * without it the build converts every part itself. One per worker process.
   */
  conversionAhead?: ConversionAhead;
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
