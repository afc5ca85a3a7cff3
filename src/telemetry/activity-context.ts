/**
 * What every activity log line says about where it comes from — `workflowId`, `runId`,
 * `activityType`, `attempt`, `instanceId` — added in one place, an activity interceptor:
 *
 *  - inbound, it runs each activity inside its context, and the workers' logger
 *    (`withActivityContext`) adds that context to every line logged while it runs, whichever
 *    module logs it (activities, the Duo and JupiterOne clients, staging);
 *  - outbound, it gives the SDK's own lines about the activity (`Activity completed`,
 *    `Activity failed`, …) the same `runId` and `instanceId` beside the SDK's attributes.
 *
 * The SDK logs `Activity started` before any interceptor sees the activity's input, so that one
 * line (DEBUG) has no `instanceId`; it has the others.
 *
 * The same interceptor hands each completed activity's result to the metrics.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Logger } from '../activities/dependencies';
import { instanceOfKey } from '../workflows/run-key';
import type { DuoJ1Metrics } from './activity-metrics';

export interface ActivityLogContext {
  workflowId?: string;
  runId?: string;
  activityType: string;
  attempt: number;
  /** The Duo instance the activity works for, when its input names one. */
  instanceId?: string;
}

const current = new AsyncLocalStorage<ActivityLogContext>();

/** The instance an activity's input names: `instanceId`, that of the grant it holds, or that of its staging key. */
export function instanceOfInput(input: unknown): string | undefined {
  if (!input || typeof input !== 'object') return undefined;
  const fields = input as { instanceId?: unknown; grant?: { instanceId?: unknown }; runKey?: unknown };
  const id = fields.instanceId ?? fields.grant?.instanceId;
  if (typeof id === 'string') return id;
  return typeof fields.runKey === 'string' ? instanceOfKey(fields.runKey) : undefined;
}

/** `log`, with the running activity's context on each line (the line's own fields win). */
export function withActivityContext(log: Logger): Logger {
  return (level, message, fields) => {
    const context = current.getStore();
    log(level, message, context ? { ...context, ...fields } : fields);
  };
}

/** The interceptor that runs each activity in its log context and reports its result to `metrics`. */
export function activityContextInterceptor(metrics?: DuoJ1Metrics): ActivityInterceptorsFactory {
  return (ctx) => {
    const { info } = ctx;
    // Known once the input is (inbound), read whenever the SDK logs a line of its own (outbound).
    let instanceId: string | undefined;
    return {
      inbound: {
        async execute(input, next) {
          instanceId = instanceOfInput(input.args[0]);
          const context: ActivityLogContext = {
            workflowId: info.workflowExecution?.workflowId,
            runId: info.workflowExecution?.runId,
            activityType: info.activityType,
            attempt: info.attempt,
            ...(instanceId ? { instanceId } : {}),
          };
          const result = await current.run(context, () => next(input));
          metrics?.activityCompleted(info.activityType, instanceId, input.args[0], result);
          return result;
        },
      },
      outbound: {
        getLogAttributes(attributes, next) {
          return next({
            ...attributes,
            ...(info.workflowExecution ? { runId: info.workflowExecution.runId } : {}),
            ...(instanceId ? { instanceId } : {}),
          });
        },
      },
    };
  };
}
