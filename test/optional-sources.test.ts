import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { validateDuoAccess } from '../src/duo';
import { DuoClient } from '../src/duo/client';
import { listGraphFiles, readGraphFile } from '../src/output/graph-files';
import { J1_FOLDER } from '../src/output/paths';
import { startDuoSimulator, type DuoSimulator } from '../src/simulators/duo/server';
import type { InstanceConfig } from '../src/config/instances';
import { WORKFLOW_TYPE, type DuoIngestionResult } from '../src/workflows/contract';
import { filesContaining } from './harness/inspect';
import { startTestJupiterOneSimulator } from './harness/jupiterone';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import { startTestWorkers, testClient, testConfig } from './harness/temporal';

/** Runs one ingestion of `instance` on test workers; returns its result and the graph it delivered, by `_type`. */
async function ingest(instance: InstanceConfig): Promise<{
  result: DuoIngestionResult;
  byType: Map<string, Record<string, unknown>[]>;
  dataDir: string;
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
  return { result, byType, dataDir: config.dataDir };
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
    assert.deepEqual(
      on.sources.map((source) => [source.source, source.grant, source.editions ?? 'all', source.on, source.readable]),
      [
        ['accountSummary', 'Grant read information', 'all', true, 'yes'],
        ['adminAuthMethods', 'Grant administrators', 'all', true, 'yes'],
        ['authenticationAttempts', 'Grant read information', 'all', true, 'yes'],
        ['bypassCodes', 'Grant read resource', 'all', true, 'yes'],
        ['endpoints', 'Grant read resource', 'Advantage and Premier', true, 'yes'],
        ['policies', 'Grant read resource', 'all', true, 'yes'],
        ['adminUnits', 'Grant administrators', 'all', true, 'yes'],
      ],
    );
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

    // Policies are read with their summary: the source is readable only if both are, and off, neither is asked.
    duo.setFaults({ endpointErrors: { '/admin/v2/policies/summary': { status: 403, code: 40301 } } });
    const withoutSummary = await validateDuoAccess(client);
    const policies = withoutSummary.sources.find((source) => source.source === 'policies')!;
    assert.equal(policies.readable, 'no');
    assert.match(policies.problem!, /\/admin\/v2\/policies\/summary/);
    assert.match(policies.problem!, /DUO_SOURCES=policies=off/);
    duo.clearRequestLog();
    await validateDuoAccess(client, { sources: { policies: false } });
    assert.equal(requestsTo(duo, '/admin/v2/policies') + requestsTo(duo, '/admin/v2/policies/summary'), 0);
  });

  it('trusted endpoints Duo refuses (404, 403) are partial types naming the editions; the run does not fail', async () => {
    for (const [status, code] of [
      [404, 40401],
      [403, 40301],
    ] as const) {
      duo.setFaults({ endpointErrors: { '/admin/v1/endpoints': { status, code } } });
      const { result, byType, dataDir } = await ingest(simulatorInstance(duo));
      assert.equal(result.outcome, 'partial', `${status}`);
      const endpoints = result.resources.endpoints;
      assert.equal(endpoints.status, 'failed');
      assert.match(endpoints.reason!, /only Duo Advantage and Premier accounts have trusted endpoints/);
      assert.match(endpoints.reason!, /DUO_SOURCES=endpoints=off/);
      if (status === 403) assert.match(endpoints.reason!, /Grant read resource/);
      assert.deepEqual(result.partialTypes.map((p) => p.type).sort(), [
        'duo_account_has_endpoint',
        'duo_endpoint',
        'duo_endpoint_has_trust_monitor_event',
        'duo_endpoint_is_device',
        'duo_user_uses_endpoint',
      ]);
      assert.equal(result.resources.users.status, 'complete');
      assert.equal(byType.get('duo_endpoint'), undefined);
      // The build begun beside the fetches assumed the endpoints would be read: the version of the
      // output it wrote was given up, and the output written whole from the graph built again.
      assert.ok(
        result.delivery.target === 'local' && !result.delivery.writtenAsBuilt,
        'written once the graph was built',
      );
      const versions = readdirSync(path.join(dataDir, 'output', '.versions', result.instanceId));
      assert.deepEqual(
        versions.filter((name) => name.endsWith('.incomplete')),
        [],
        'no version left half-written',
      );
    }
  });

  it('a source switched off is not read, and JupiterOne removes what earlier runs delivered of it', async () => {
    const j1 = await startTestJupiterOneSimulator();
    const instance = simulatorInstance(duo, { jupiterone: j1 });
    const scope = { scope: `duo-${instance.id}` };
    const held = (type: string) => j1.heldGraph(scope).entities.filter((e) => e._type === type).length;

    const on = await ingest(instance);
    assert.equal(on.result.outcome, 'success');
    assert.equal(held('duo_endpoint'), duo.tenant.endpoints.length);
    assert.equal(held('duo_bypass_code'), duo.tenant.bypassCodes.length);

    duo.clearRequestLog();
    const off = await ingest({ ...instance, sources: { endpoints: false } });
    assert.equal(requestsTo(duo, '/admin/v1/endpoints'), 0, 'not read');
    assert.equal(off.result.resources.endpoints.status, 'off');
    assert.equal(off.result.outcome, 'success', 'switched off is no failure');
    assert.deepEqual(off.result.partialTypes, []);
    assert.equal(off.result.entities.duo_endpoint, 0);
    assert.equal(held('duo_endpoint'), 0, 'removed from JupiterOne, as the user asked');
    assert.equal(held('duo_bypass_code'), duo.tenant.bypassCodes.length, 'the other sources untouched');
    assert.ok(held('duo_user') > 0);
  });

  it('a bypass code is never staged, written or delivered, whatever field Duo put it in', async () => {
    const codes = duo.tenant.bypassCodes.slice(0, 4).map((_, index) => `${740_000 + index * 1111}`.padEnd(9, '7'));
    const fields = ['bypass_code', 'code', 'codes', 'passcode'];
    duo.setTenant({
      ...duo.tenant,
      bypassCodes: duo.tenant.bypassCodes.map((code, index) =>
        index < codes.length
          ? { ...code, [fields[index]!]: fields[index] === 'codes' ? [codes[index]] : codes[index] }
          : code,
      ),
    });
    const j1 = await startTestJupiterOneSimulator();
    const instance = simulatorInstance(duo, { jupiterone: j1 });
    const delivered = await ingest(instance);
    assert.equal(delivered.result.entities.duo_bypass_code, duo.tenant.bypassCodes.length);
    const heldText = JSON.stringify(j1.heldGraph({ scope: `duo-${instance.id}` }));
    for (const code of codes) assert.ok(!heldText.includes(code), 'no code in JupiterOne');
    const local = await ingest(simulatorInstance(duo));
    assert.equal(local.result.entities.duo_bypass_code, duo.tenant.bypassCodes.length);
    for (const dataDir of [delivered.dataDir, local.dataDir]) {
      assert.deepEqual(filesContaining(dataDir, codes), [], 'no code in staging, output or state');
    }
    assert.ok(JSON.stringify(local.byType.get('duo_bypass_code')).includes('bypass_code_id'), 'the records are there');
  });
});
