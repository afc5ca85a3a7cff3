/**
 * Policies and administrative units through whole runs on the dev server: what the graph holds of
 * them, and what a run does when Duo refuses them or the instance switches them off.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { listGraphFiles, readGraphFile } from '../src/output/graph-files';
import { J1_FOLDER } from '../src/output/paths';
import { startDuoSimulator, type DuoSimulator } from '../src/simulators/duo/server';
import type { InstanceConfig } from '../src/config/instances';
import type { DuoPolicyApplication } from '../src/duo/types';
import { WORKFLOW_TYPE, type DuoIngestionResult } from '../src/workflows/contract';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import { startTestWorkers, testClient, testConfig } from './harness/temporal';

type GraphObject = Record<string, unknown>;

/** The types partial when the policies cannot be read whole: theirs and every edge touching them. */
const POLICY_TYPES = [
  'duo_account_has_policy',
  'duo_integration_uses_policy',
  'duo_policy',
  'duo_policy_enforces_group',
];

describe('policies and administrative units in a run', function () {
  let duo: DuoSimulator;
  let runs = 0;

  before(async () => {
    duo = await startDuoSimulator({ users: 300, seed: 22 });
    stopAtEnd(() => duo.close());
  });
  beforeEach(() => duo.setFaults({}));

  /** One ingestion on test workers: its result and the local graph it delivered, by `_type`. */
  async function ingest(
    instance: InstanceConfig,
  ): Promise<{ result: DuoIngestionResult; of: (type: string) => GraphObject[] }> {
    const config = testConfig([instance]);
    await startTestWorkers(config);
    const client = await testClient();
    runs += 1;
    const result = (await client.workflow.execute(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `access-control-${runs}-${config.taskQueue}`,
      args: [{ instanceId: instance.id }],
    })) as DuoIngestionResult;
    assert.equal(result.delivery.target, 'local');
    const byType = new Map<string, GraphObject[]>();
    if (result.delivery.target === 'local') {
      for (const file of await listGraphFiles(path.join(result.delivery.outputDir, J1_FOLDER))) {
        for (const object of await readGraphFile(file.path)) {
          byType.set(String(object._type), [...(byType.get(String(object._type)) ?? []), object]);
        }
      }
    }
    return { result, of: (type) => byType.get(type) ?? [] };
  }

  it('delivers every policy and unit, each integration using its policy, units holding their members', async () => {
    const { result, of } = await ingest(simulatorInstance(duo));
    assert.equal(result.outcome, 'success');
    const { tenant } = duo;
    assert.equal(of('duo_policy').length, tenant.policies.length);
    assert.equal(of('duo_account_has_policy').length, tenant.policies.length);
    // Every integration uses exactly one policy: its own, or the global one.
    const uses = of('duo_integration_uses_policy');
    assert.equal(uses.length, tenant.integrations.length);
    const governedByGlobal = tenant.integrations.filter((integration) => !integration.policy_key).length;
    assert.ok(governedByGlobal > 0);
    assert.equal(uses.filter((edge) => edge._toEntityKey === 'duo-policy:global').length, governedByGlobal);
    const allowed = tenant.integrations.flatMap((integration) => integration.groups_allowed ?? []);
    assert.ok(allowed.length > 0);
    assert.equal(of('duo_integration_allows_group').length, allowed.length);
    // Each group policy in Duo's policy summary, one edge per policy and group whatever the number
    // of applications it is applied on (the generator applies one policy to one group on two).
    const groupPolicies = (tenant.policySummary.policies ?? []).flatMap((policy) =>
      (policy.policy_applies_to as DuoPolicyApplication[]).flatMap((applied) =>
        applied.apply_type === 'group_app'
          ? [`duo-policy:${policy.policy_key}|enforces|duo-group:${applied.group_id}`]
          : [],
      ),
    );
    const enforced = [...new Set(groupPolicies)].sort();
    assert.ok(enforced.length > 0 && enforced.length < groupPolicies.length);
    assert.deepEqual(
      of('duo_policy_enforces_group')
        .map((edge) => edge._key)
        .sort(),
      enforced,
    );

    assert.equal(of('duo_admin_unit').length, tenant.administrativeUnits.length);
    const members = (field: 'admins' | 'groups' | 'integrations') =>
      tenant.administrativeUnits.reduce((sum, unit) => sum + (unit[field] ?? []).length, 0);
    assert.equal(of('duo_admin_unit_has_admin').length, members('admins'));
    assert.equal(of('duo_admin_unit_has_group').length, members('groups'));
    assert.equal(of('duo_admin_unit_has_integration').length, members('integrations'));
    const restricted = of('duo_admin').filter((admin) => admin.restrictedByAdminUnits === true);
    assert.ok(restricted.length > 0);
    // Each administrator's `adminUnits` names exactly the units that hold them.
    for (const admin of of('duo_admin')) {
      const units = tenant.administrativeUnits
        .filter((unit) => (unit.admins ?? []).includes(String(admin.id)))
        .map((unit) => unit.admin_unit_id);
      assert.deepEqual(admin.adminUnits, units.length > 0 ? units : undefined, String(admin.id));
    }
    assert.deepEqual(result.partialTypes, []);
  });

  it('policies Duo refuses are partial with the edges to them; the integrations are whole', async () => {
    duo.setFaults({ endpointErrors: { '/admin/v2/policies': { status: 403, code: 40301 } } });
    const { result, of } = await ingest(simulatorInstance(duo));
    assert.equal(result.outcome, 'partial');
    assert.equal(result.resources.policies.status, 'failed');
    assert.equal(result.resources.integrations.status, 'complete');
    assert.deepEqual(result.partialTypes.map((partial) => partial.type).sort(), POLICY_TYPES);
    assert.match(result.partialTypes.find((partial) => partial.type === 'duo_policy')!.reason, /Grant read resource/);
    assert.equal(of('duo_integration').length, duo.tenant.integrations.length);
    assert.equal(of('duo_integration_uses_policy').length, 0);
  });

  it('a policy summary Duo refuses, or cut short, makes the policies partial, never short of group policies', async () => {
    duo.setFaults({ endpointErrors: { '/admin/v2/policies/summary': { status: 403, code: 40301 } } });
    const refused = await ingest(simulatorInstance(duo));
    assert.equal(refused.result.resources.policies.status, 'failed');
    assert.deepEqual(refused.result.partialTypes.map((partial) => partial.type).sort(), POLICY_TYPES);
    assert.match(
      refused.result.partialTypes.find((partial) => partial.type === 'duo_policy')!.reason,
      /Grant read resource/,
    );
    duo.setFaults({});

    const whole = duo.tenant;
    duo.setTenant({ ...whole, policySummary: { ...whole.policySummary, response_is_truncated: true } });
    try {
      const cut = await ingest(simulatorInstance(duo));
      assert.equal(cut.result.outcome, 'partial');
      assert.deepEqual(cut.result.partialTypes.map((partial) => partial.type).sort(), POLICY_TYPES);
      assert.match(
        cut.result.partialTypes.find((partial) => partial.type === 'duo_policy_enforces_group')!.reason,
        /\/admin\/v2\/policies\/summary.*cut short \(response_is_truncated\)/,
      );
      assert.equal(cut.of('duo_policy_enforces_group').length, 0);
      assert.equal(cut.of('duo_integration').length, whole.integrations.length);
    } finally {
      duo.setTenant(whole);
    }
  });

  it('administrative units switched off are not read, and delivered empty rather than partial', async () => {
    duo.clearRequestLog();
    const { result, of } = await ingest({ ...simulatorInstance(duo), sources: { adminUnits: false } });
    assert.equal(result.resources.adminUnits.status, 'off');
    assert.equal(duo.requestLog.filter((entry) => entry.path === '/admin/v1/administrative_units').length, 0);
    assert.equal(of('duo_admin_unit').length, 0);
    assert.deepEqual(result.partialTypes, []);
    assert.equal(of('duo_policy').length, duo.tenant.policies.length);
  });
});
