/**
 * Activities that talk to Temporal itself, with the worker's client: checking an instance before a
 * run takes it, acquiring and releasing it through the instance's coordinator (update-with-start),
 * and what the coordinator needs to judge a holder (describe a run, terminate one past its deadline).
 *
 * They take the run's identity from `activityInfo()`, never from their input: after a reset, inputs
 * are copied from the replaced run's history, but an activity always knows which run it works for.
 * That is what lets `checkGrant` tell a reset run that the grant it replayed is not its own.
 */
import { ApplicationFailure, activityInfo } from '@temporalio/activity';
import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import {
  COORDINATOR_WORKFLOW_TYPE,
  acquireUpdate,
  coordinatorWorkflowId,
  releaseUpdate,
  reportUpdate,
  type CoordinatorInput,
  type HolderCleanup,
  type InstanceGrant,
} from '../workflows/coordination-contract';
import { deliveryTarget, type DeliveryTarget } from '../config/instances';
import { FailureType, SEARCH_ATTRIBUTES } from '../workflows/contract';
import { findInstanceOrFail, type ActivityDependencies } from './dependencies';
import { classified } from './failures';

/** How long a coordinator may run before it must have continued as new (it does so after 12 hours). */
const COORDINATOR_RUN_TIMEOUT = '1 day';

export interface InstanceCheck {
  target: DeliveryTarget;
  /** Search attributes the namespace lacks; the run then upserts none (and says so). */
  missingSearchAttributes: string[];
}

/** The run this activity works for: the run that scheduled it, after a reset the new one. */
function ownRun(): { workflowId: string; runId: string } {
  const execution = activityInfo().workflowExecution;
  if (!execution)
    throw ApplicationFailure.nonRetryable('This activity runs only for a duoIngestion run', 'NotInWorkflow');
  return { workflowId: execution.workflowId, runId: execution.runId };
}

function staleGrant(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, FailureType.StaleGrant);
}

/** The custom search attributes duo-j1 upserts that the client's namespace does not have. */
export async function missingSearchAttributes(client: Client): Promise<string[]> {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({
    namespace: client.options.namespace,
  });
  return Object.values(SEARCH_ATTRIBUTES).filter((name) => !(customAttributes ?? {})[name]);
}

/**
 * Throws `StaleGrant` unless the grant is this activity's run's and the coordinator still has it
 * as the holder; records `cleanup` with the coordinator on the way.
 */
export async function checkGrant(client: Client, grant: InstanceGrant, cleanup: HolderCleanup = {}): Promise<void> {
  const { workflowId, runId } = ownRun();
  if (grant.workflowId !== workflowId || grant.runId !== runId) {
    throw staleGrant(
      `The grant of instance ${grant.instanceId} belongs to run ${grant.workflowId} (${grant.runId}), not to this run (${runId}): a reset run acquires the instance again`,
    );
  }
  try {
    await client.workflow
      .getHandle(coordinatorWorkflowId(grant.instanceId))
      .executeUpdate(reportUpdate, { args: [{ grantId: grant.grantId, workflowId, runId, ...cleanup }] });
  } catch (error) {
    if (error instanceof WorkflowNotFoundError || error instanceof WorkflowUpdateFailedError) {
      throw staleGrant(`This run no longer holds instance ${grant.instanceId}: ${(error as Error).message}`);
    }
    throw error;
  }
}

export function createCoordinationActivities(deps: ActivityDependencies) {
  const client = deps.temporalClient;
  return {
    /**
     * Before a run takes its instance: is the instance configured here, where does it deliver, and
     * can the run upsert its search attributes?
     */
    async checkInstance(input: { instanceId: string }): Promise<InstanceCheck> {
      return classified(async () => {
        const instance = findInstanceOrFail(deps, input.instanceId);
        let missing: string[];
        try {
          missing = await missingSearchAttributes(client);
        } catch (error) {
          // Not allowed to list them (a restricted cloud key, say): behave as if they were absent.
          deps.log?.('warn', 'Could not list the namespace’s search attributes', {
            error: (error as Error).message,
          });
          missing = Object.values(SEARCH_ATTRIBUTES);
        }
        if (missing.length > 0) {
          deps.log?.(
            'warn',
            `Search attributes ${missing.join(', ')} are not registered in namespace ${client.options.namespace}: runs work, but cannot be found by instance or outcome. Register them with "duo-j1 cluster setup".`,
            { instanceId: instance.id },
          );
        }
        return { target: deliveryTarget(instance), missingSearchAttributes: missing };
      });
    },

    /**
     * Asks the instance's coordinator (starting it if none runs) for the instance; fails
     * `InstanceBusy` naming the holder when another run has it.
     */
    async acquireInstance(input: {
      instanceId: string;
      deadlineSeconds: number;
      coordinator?: Pick<CoordinatorInput, 'holderCheckSeconds' | 'idleSeconds'>;
    }): Promise<InstanceGrant> {
      const { workflowId, runId } = ownRun();
      const coordinatorInput: CoordinatorInput = { instanceId: input.instanceId, ...input.coordinator };
      const answer = await client.workflow.executeUpdateWithStart(acquireUpdate, {
        args: [{ workflowId, runId, deadlineSeconds: input.deadlineSeconds }],
        startWorkflowOperation: new WithStartWorkflowOperation(COORDINATOR_WORKFLOW_TYPE, {
          workflowId: coordinatorWorkflowId(input.instanceId),
          // The queue this activity was polled from: the workers that run duoIngestion.
          taskQueue: activityInfo().taskQueue,
          args: [coordinatorInput],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowRunTimeout: COORDINATOR_RUN_TIMEOUT,
          staticSummary: `Coordinator of duo-j1 instance ${input.instanceId} — grants it to one run at a time; not an ingestion run`,
        }),
      });
      if (!answer.granted) {
        const { holder } = answer;
        throw ApplicationFailure.nonRetryable(
          `Instance "${input.instanceId}" is busy: run ${holder.workflowId} (run id ${holder.runId}) has held it since ${new Date(holder.grantedAt).toISOString()}. Try again when it finishes, or cancel it.`,
          FailureType.InstanceBusy,
          { holder },
        );
      }
      return answer.grant;
    },

    /** Frees the instance; `StaleGrant` when the grant is not this run's (see checkGrant). */
    async releaseInstance(input: { grant: InstanceGrant }): Promise<void> {
      const { grant } = input;
      const { workflowId, runId } = ownRun();
      if (grant.runId !== runId || grant.workflowId !== workflowId) {
        throw staleGrant(`The grant of instance ${grant.instanceId} belongs to run ${grant.runId}, not ${runId}`);
      }
      try {
        await client.workflow
          .getHandle(coordinatorWorkflowId(grant.instanceId))
          .executeUpdate(releaseUpdate, { args: [{ grantId: grant.grantId, workflowId, runId }] });
      } catch (error) {
        // No coordinator: nothing holds the instance any more.
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
    },

    /** For the coordinator: the status of a run (`NOT_FOUND` once it left retention). */
    async describeRun(input: { workflowId: string; runId: string }): Promise<{ status: string }> {
      try {
        const description = await client.workflow.getHandle(input.workflowId, input.runId).describe();
        return { status: description.status.name };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { status: 'NOT_FOUND' };
        throw error;
      }
    },

    /** For the coordinator: ends a holder that overstayed its deadline. */
    async terminateRun(input: { workflowId: string; runId: string; reason: string }): Promise<void> {
      try {
        await client.workflow.getHandle(input.workflowId, input.runId).terminate(input.reason);
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
    },
  };
}
