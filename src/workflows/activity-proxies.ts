/**
 * How the workflows call duo-j1's activities: by their plain names (`fetchResource`), typed, while
 * each call schedules the registered, prefixed name (`duoJ1.fetchResource`; see
 * `ACTIVITY_NAME_PREFIX`).
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { DuoJ1ActivityFunctions } from '../activities';
import { duoJ1ActivityName } from './contract';

export function proxyDuoJ1Activities(options: ActivityOptions): DuoJ1ActivityFunctions {
  const registered = proxyActivities<Record<string, unknown>>(options);
  return new Proxy({} as DuoJ1ActivityFunctions, {
    get: (_target, name) => (typeof name === 'string' ? registered[duoJ1ActivityName(name)] : undefined),
  });
}
