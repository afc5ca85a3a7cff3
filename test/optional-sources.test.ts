import assert from 'node:assert/strict';
import path from 'node:path';
import { validateDuoAccess } from '../src/duo';
import { DuoClient } from '../src/duo/client';
import { listGraphFiles, readGraphFile } from '../src/output/graph-files';
import { J1_FOLDER } from '../src/output/paths';
import { startDuoSimulator, type DuoSimulator } from '../src/simulators/duo/server';
import type { InstanceConfig } from '../src/config/instances';
import { WORKFLOW_TYPE, type DuoIngestionResult } from '../src/workflows/contract';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import { startTestWorkers, testClient, testConfig } from './harness/temporal';

/** Runs one ingestion of `instance` on test workers; returns its result and the graph it delivered, by `_type`. */
async function ingest(instance: InstanceConfig): Promise<{
  result: DuoIngestionResult;
  byType: Map<string, Record<string, unknown>[]>;
}> {
  const config = testConfig([instance]);
  await startTestWorkers(config);
  const client = await testClient();
  const result = (await client.workflow.execute(WORKFLOW_TYPE, {
    taskQueue: config.taskQueue,
    workflowId: `sources-${config.taskQueue}`,
    args: [{ instanceId: instance.id }],
  })) as DuoIngestionResult;
  const byType = new Map<string, Record<string, unknown>[]>();
  if (result.delivery.target === 'local') {
    for (const file of await listGraphFiles(path.join(result.delivery.outputDir, J1_FOLDER))) {
      for (const object of await readGraphFile(file.path)) {
        const type = String(object._type);
        byType.set(type, [...(byType.get(type) ?? []), object]);
      }
    }
  }
  return { result, byType };
}

function requestsTo(duo: DuoSimulator, endpointPath: string): number {
  return duo.requestLog.filter((entry) => entry.path === endpointPath).length;
}

describe('optional sources', function () {
  let duo: DuoSimulator;
  before(async () => {
    duo = await startDuoSimulator({ users: 40, seed: 22 });
    stopAtEnd(() => duo.close());
  });
  beforeEach(() => {
    duo.clearRequestLog();
    duo.setFaults({});
  });

  it('an optional endpoint switched off is not asked for; the record is made without what it adds', async () => {
    const instance = { ...simulatorInstance(duo), sources: { accountSummary: false } };
    const { result, byType } = await ingest(instance);
    assert.equal(result.outcome, 'success');
    assert.equal(requestsTo(duo, '/admin/v1/info/summary'), 0, 'the summary is not read');
    assert.ok(requestsTo(duo, '/admin/v1/settings') > 0);
    const [account] = byType.get('duo_account')!;
    assert.equal(account.userCount, undefined);
    assert.equal(account.name !== undefined, true);
  });

  it('an optional endpoint Duo answers 404 for is left out; the run does not fail', async () => {
    duo.setFaults({ endpointErrors: { '/admin/v1/info/summary': { status: 404, code: 40401 } } });
    const { result, byType } = await ingest(simulatorInstance(duo));
    assert.equal(result.outcome, 'success');
    assert.equal(result.resources.account.status, 'complete');
    assert.equal(byType.get('duo_account')![0].userCount, undefined);
    // On, it is read: the same tenant without the fault has the counts.
    duo.setFaults({});
    const again = await ingest(simulatorInstance(duo));
    assert.equal(again.byType.get('duo_account')![0].userCount, duo.tenant.users.length);
  });

  it('validate lists every optional source with its grant, on or off, and whether Duo lets it be read', async () => {
    const client = new DuoClient({ ...duo.clientOptions, requestsPerMinute: 60_000 });
    const on = await validateDuoAccess(client);
    assert.equal(on.ok, true);
    const summary = on.sources.find((source) => source.source === 'accountSummary')!;
    assert.deepEqual(
      { on: summary.on, readable: summary.readable, grant: summary.grant, path: summary.path },
      { on: true, readable: 'yes', grant: 'Grant read information', path: '/admin/v1/info/summary' },
    );

    duo.clearRequestLog();
    const off = await validateDuoAccess(client, { sources: { accountSummary: false } });
    assert.equal(off.sources.find((source) => source.source === 'accountSummary')!.readable, 'not asked');
    assert.equal(requestsTo(duo, '/admin/v1/info/summary'), 0);

    duo.setFaults({ endpointErrors: { '/admin/v1/info/summary': { status: 404, code: 40401 } } });
    const missing = await validateDuoAccess(client);
    const refused = missing.sources.find((source) => source.source === 'accountSummary')!;
    assert.equal(refused.readable, 'no');
    assert.match(refused.problem!, /DUO_SOURCES=accountSummary=off/);
    assert.equal(missing.ok, false, 'a source that is on and cannot be read needs a person');
  });
});
