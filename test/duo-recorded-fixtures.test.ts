import assert from 'node:assert/strict';
import {
  DuoAuthenticationError,
  DuoClient,
  type DuoAdmin,
  type DuoGroup,
  type DuoIntegrationRecord,
  type DuoPhone,
  type DuoSettings,
  type DuoUser,
} from '../src/duo';
import { ALLOWED_ADMIN_AUTH_METHODS, startDuoSimulator, type DuoTenant } from '../src/simulators/duo';
import { stopAtEnd } from './harness/root-hooks';
import recordedAdmins from './fixtures/duo-recorded/admin_v1_admins.200.json';
import recordedGroups from './fixtures/duo-recorded/admin_v1_groups.200.json';
import recordedIntegrations from './fixtures/duo-recorded/admin_v1_integrations.200.json';
import recordedPhones from './fixtures/duo-recorded/admin_v1_phones.200.json';
import recordedSettings from './fixtures/duo-recorded/admin_v1_settings.200.json';
import recordedUnauthorized from './fixtures/duo-recorded/admin_v1_settings.401.json';
import recordedUsers from './fixtures/duo-recorded/admin_v1_users.200.json';
import { listAll } from './harness/duo';

// Compile-time check: the real responses are assignable to the client's wire types (tsc fails otherwise).
const admins: DuoAdmin[] = recordedAdmins.response;
const groups: DuoGroup[] = recordedGroups.response;
const integrations: DuoIntegrationRecord[] = recordedIntegrations.response;
const phones: DuoPhone[] = recordedPhones.response;
const settings: DuoSettings = recordedSettings.response;
const users: DuoUser[] = recordedUsers.response;

describe('Duo recorded responses', () => {
  it('come back through the simulator and the client unchanged (bar secret_key)', async () => {
    const tenant: DuoTenant = {
      siteId: '56cd46b9',
      apiHostname: 'api-56cd46b9.duosecurity.com',
      settings,
      infoSummary: { admin_count: 2, integration_count: 1, user_count: 1, user_pending_deletion_count: 0 },
      allowedAdminAuthMethods: ALLOWED_ADMIN_AUTH_METHODS,
      admins,
      groups,
      users,
      phones,
      tokens: [],
      webauthncredentials: [],
      bypassCodes: [],
      endpoints: [],
      authenticationAttempts: {},
      integrations,
      // Nothing recorded for these.
      policies: [],
      policySummary: { policies: [], policy_count: 0, response_is_truncated: false, warnings: [] },
      administrativeUnits: [],
    };
    const simulator = await startDuoSimulator({ tenant });
    stopAtEnd(() => simulator.close());
    const client = new DuoClient({ ...simulator.clientOptions, requestsPerMinute: 60_000, logger: () => {} });

    assert.deepEqual(await client.getObject('settings'), recordedSettings.response);
    assert.deepEqual(await listAll(client, 'admins'), recordedAdmins.response);
    assert.deepEqual(await listAll(client, 'groups'), recordedGroups.response);
    assert.deepEqual(await listAll(client, 'users'), recordedUsers.response);
    assert.deepEqual(await listAll(client, 'phones'), recordedPhones.response);
    const received = await listAll(client, 'integrations');
    const { secret_key: _secret, ...withoutSecret } = recordedIntegrations.response[0]!;
    assert.deepEqual(received, [withoutSecret]);

    // Mixed value types survive as received: booleans, 0/1 integers, nulls, fractional numbers.
    const account = await client.getObject('settings');
    assert.equal(account.fraud_email_enabled, true);
    assert.equal(account.instant_restore_enabled, 1);
    assert.equal(account.lockout_expire_duration, null);
    assert.equal(account.user_telephony_cost_max, 20);

    // Pages report Duo's total_objects and, as in the recordings, no next_offset.
    for await (const page of client.pages('admins')) {
      assert.equal(page.totalObjects, recordedAdmins.metadata.total_objects);
      assert.equal(page.nextOffset, undefined);
    }
  });

  it('the recorded 401 is the body the simulator sends and the client maps to 40103', async () => {
    const simulator = await startDuoSimulator({ users: 2 });
    stopAtEnd(() => simulator.close());
    const client = new DuoClient({
      ...simulator.clientOptions,
      secretKey: 'wrongwrongwrongwrongwrongwrongwrongwrong',
      logger: () => {},
    });
    const error = await client.getObject('settings').then(
      () => assert.fail('expected a 401'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof DuoAuthenticationError);
    assert.equal(error.code, recordedUnauthorized.code);
    assert.equal(error.duoMessage, recordedUnauthorized.message);
  });
});
