/**
 * The JupiterOne simulator as the suite's tests start it, with the invariant the product lives by
 * checked after every test (docs/completeness.md): no job is ever finalized with fewer — or more —
 * objects of a type that is not partial than the run built.
 *
 * Checked from outside the product, on purpose: the simulator records, for each job it finalizes,
 * the distinct objects it held per `_type` (what JupiterOne would replace each type's data with);
 * the run that finalized the job reports the objects it built per `_type` in its result. Pairing the
 * two by job id needs nothing from the product but its public result, so a product that miscounts
 * its own uploads is caught too — which a count the client declared to the simulator would not
 * catch, besides needing a field JupiterOne's API does not have.
 */
import assert from 'node:assert/strict';
import {
  startJupiterOneSimulator,
  type JupiterOneSimulator,
  type JupiterOneSimulatorOptions,
} from '../../src/simulators/jupiterone/server';
import { WORKFLOW_TYPE, type DuoIngestionResult } from '../../src/workflows/contract';
import { checkAfterEachTest, stopAtEnd } from './root-hooks';
import { testClient } from './temporal';

const simulators: JupiterOneSimulator[] = [];
/** Finalized jobs already checked, by id. */
const checked = new Set<string>();
/** Completed runs' results that delivered to JupiterOne, by job id. */
const builtByJob = new Map<string, DuoIngestionResult>();
const seenRuns = new Set<string>();

/** Starts a JupiterOne simulator whose finalized jobs are checked after every test. */
export async function startTestJupiterOneSimulator(
  options: JupiterOneSimulatorOptions = {},
): Promise<JupiterOneSimulator> {
  const simulator = await startJupiterOneSimulator(options);
  stopAtEnd(() => simulator.close());
  if (simulators.length === 0) checkAfterEachTest(checkFinalizedJobs);
  simulators.push(simulator);
  return simulator;
}

/** Reads the results of the ingestion runs completed since the last look. */
async function collectRunResults(): Promise<void> {
  const client = await testClient();
  const query = `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Completed'`;
  for await (const run of client.workflow.list({ query })) {
    if (seenRuns.has(run.runId)) continue;
    seenRuns.add(run.runId);
    const result = (await client.workflow.getHandle(run.workflowId, run.runId).result()) as DuoIngestionResult;
    if (result.delivery.target === 'jupiterone') builtByJob.set(result.delivery.jobId, result);
  }
}

/** The result of the run that finalized `jobId`; visibility may lag the run's close by a moment. */
async function runThatFinalized(jobId: string): Promise<DuoIngestionResult | undefined> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await collectRunResults();
    const result = builtByJob.get(jobId);
    if (result || Date.now() > deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function checkFinalizedJobs(): Promise<void> {
  for (const simulator of simulators) {
    for (const info of simulator.jobs()) {
      if (!info.finalizedObjects || checked.has(info.job.id)) continue;
      checked.add(info.job.id);
      const result = await runThatFinalized(info.job.id);
      assert.ok(result, `JupiterOne job ${info.job.id} was finalized by no completed ingestion run`);
      const partial = new Set(info.partialDatasets?.types ?? []);
      const built: Record<string, number> = { ...result.entities, ...result.relationships };
      for (const type of new Set([...Object.keys(built), ...Object.keys(info.finalizedObjects)])) {
        if (partial.has(type)) continue;
        assert.equal(
          info.finalizedObjects[type] ?? 0,
          built[type] ?? 0,
          `job ${info.job.id} was finalized with ${info.finalizedObjects[type] ?? 0} objects of ${type}, ` +
            `which is not partial, while the run built ${built[type] ?? 0}`,
        );
      }
    }
  }
}
