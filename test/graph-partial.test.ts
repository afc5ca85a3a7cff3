import assert from 'node:assert/strict';
import { RESOURCE_NAMES, type ResourceName } from '../src/resources/table';
import { computePartialTypes, type FetchOutcomeLike } from '../src/graph/partial-datasets';

function outcomes(failed: Partial<Record<ResourceName, string>> = {}): Record<ResourceName, FetchOutcomeLike> {
  return Object.fromEntries(
    RESOURCE_NAMES.map((resource) => [
      resource,
      failed[resource] === undefined ? { status: 'complete' } : { status: 'failed', reason: failed[resource] },
    ]),
  ) as Record<ResourceName, FetchOutcomeLike>;
}

const types = (list: { type: string }[]) => list.map((p) => p.type).sort();

describe('partial-dataset rule', () => {
  it('marks nothing partial when every fetch completed and nothing was dropped', () => {
    assert.deepEqual(computePartialTypes(outcomes()), []);
  });

  it('a failed users fetch: the types made from users and every type touching them, nothing else', () => {
    const partial = computePartialTypes(outcomes({ users: 'Duo answered 500 five times' }));
    assert.deepEqual(types(partial), [
      'duo_account_has_user',
      'duo_admin_allows_user',
      // mfa_device is partial (U2F tokens come from users), and so is every edge to it.
      'duo_admin_assigned_mfa_device',
      'duo_admin_is_user',
      'duo_group_has_user',
      'duo_user',
      'duo_user_assigned_mfa_device',
      'duo_user_has_bypass_code',
      'duo_user_has_trust_monitor_event',
      'duo_user_is_employee',
      'duo_user_uses_endpoint',
      'duo_user_uses_integration',
      'duo_user_uses_phone',
      // U2F tokens exist only inside user records, so MFA devices are incomplete too.
      'mfa_device',
    ]);
    const user = partial.find((p) => p.type === 'duo_user');
    assert.equal(user?.reason, 'the users fetch failed: Duo answered 500 five times');
    assert.match(partial.find((p) => p.type === 'duo_group_has_user')?.reason ?? '', /touches duo_user/);
  });

  it('a failed account fetch: duo_account and every duo_account_has_* type', () => {
    const partial = computePartialTypes(outcomes({ account: 'Duo refused: add "Grant settings"' }));
    assert.deepEqual(types(partial), [
      'duo_account',
      'duo_account_has_admin',
      'duo_account_has_admin_unit',
      'duo_account_has_endpoint',
      'duo_account_has_group',
      'duo_account_has_integration',
      'duo_account_has_policy',
      'duo_account_has_user',
    ]);
    assert.match(partial[0].reason, /Grant settings/);
  });

  it('an edition without endpoints: the endpoint types only, with the reason naming the edition', () => {
    const partial = computePartialTypes(
      outcomes({ endpoints: 'only Duo Advantage and Premier accounts have trusted endpoints' }),
    );
    assert.deepEqual(types(partial), [
      'duo_account_has_endpoint',
      'duo_endpoint',
      'duo_endpoint_has_trust_monitor_event',
      'duo_endpoint_is_device',
      'duo_user_uses_endpoint',
    ]);
    assert.match(partial.find((p) => p.type === 'duo_endpoint')!.reason, /Advantage and Premier/);
  });

  it('a failed bypass codes fetch: the codes and the edges to their users and creators only', () => {
    assert.deepEqual(types(computePartialTypes(outcomes({ bypassCodes: 'x' }))), [
      'duo_admin_created_bypass_code',
      'duo_bypass_code',
      'duo_user_has_bypass_code',
    ]);
  });

  it('a failed phones fetch: duo_phone and the phone edges only', () => {
    assert.deepEqual(types(computePartialTypes(outcomes({ phones: 'x' }))), [
      'duo_phone',
      'duo_phone_has_trust_monitor_event',
      'duo_user_uses_phone',
    ]);
  });

  it('a failed WebAuthn fetch makes the MFA devices partial, whose other sources succeeded', () => {
    assert.deepEqual(types(computePartialTypes(outcomes({ webauthn: 'x' }))), [
      'duo_admin_assigned_mfa_device',
      'duo_user_assigned_mfa_device',
      'mfa_device',
    ]);
  });

  it('a failed policies fetch: the policies and the edges to them, never the integrations', () => {
    assert.deepEqual(types(computePartialTypes(outcomes({ policies: 'Duo refused: add "Grant read resource"' }))), [
      'duo_account_has_policy',
      'duo_integration_uses_policy',
      'duo_policy',
      'duo_policy_enforces_group',
    ]);
  });

  it('a failed administrative units fetch: the units and their edges, never the administrators', () => {
    assert.deepEqual(types(computePartialTypes(outcomes({ adminUnits: 'x' }))), [
      'duo_account_has_admin_unit',
      'duo_admin_unit',
      'duo_admin_unit_has_admin',
      'duo_admin_unit_has_group',
      'duo_admin_unit_has_integration',
    ]);
  });

  it('treats a resource that never completed (or has no outcome) as failed', () => {
    const partial = computePartialTypes({ ...outcomes(), integrations: { status: 'running' }, admins: undefined });
    assert.deepEqual(types(partial), [
      'duo_account_has_admin',
      'duo_account_has_integration',
      'duo_admin',
      'duo_admin_allows_user',
      'duo_admin_assigned_mfa_device',
      'duo_admin_created_bypass_code',
      'duo_admin_created_integration',
      'duo_admin_has_trust_monitor_event',
      'duo_admin_is_employee',
      'duo_admin_is_user',
      'duo_admin_knows_integration',
      'duo_admin_unit_has_admin',
      'duo_admin_unit_has_integration',
      'duo_integration',
      'duo_integration_allows_group',
      'duo_integration_uses_policy',
      'duo_user_uses_integration',
    ]);
  });

  it('types with objects dropped as invalid are partial, with the relationships touching them', () => {
    const partial = computePartialTypes(outcomes(), { duo_group: 2, duo_user_is_employee: 1 });
    assert.deepEqual(types(partial), [
      'duo_account_has_group',
      'duo_admin_unit_has_group',
      'duo_group',
      'duo_group_has_user',
      'duo_integration_allows_group',
      'duo_policy_enforces_group',
      'duo_user_is_employee',
    ]);
    assert.equal(partial.find((p) => p.type === 'duo_group')?.reason, '2 objects dropped as invalid');
  });

  it('a resource switched off is no failure: its types are complete (and empty), nothing else is partial', () => {
    const switchedOff = { ...outcomes(), users: { status: 'off', reason: 'switched off' } };
    assert.deepEqual(computePartialTypes(switchedOff), []);
    // The same resource failing makes its types partial: off and failed must stay apart.
    assert.notDeepEqual(computePartialTypes(outcomes({ users: 'refused' })), []);
  });

  it('lists each type once', () => {
    const partial = computePartialTypes(outcomes({ users: 'a', phones: 'b', tokens: 'c' }), { duo_user: 3 });
    assert.equal(new Set(partial.map((p) => p.type)).size, partial.length);
  });
});
