/**
 * graph-duo compatibility: the migration table of docs/migrating-from-graph-duo.md, held to the
 * converters. Every `kept` row's property must be on its `_type` with graph-duo's value, computed
 * from the recorded Duo responses as the row says; every other row must say how to query it now.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  convertAccount,
  convertAdmin,
  convertGroup,
  convertIntegration,
  convertPhone,
  convertToken,
  convertU2fToken,
  convertUser,
  convertWebAuthnCredential,
  type GraphInstanceContext,
} from '../src/graph/converters';
import { ENTITY_KIND_LIST } from '../src/graph/data-model';
import type { Entity } from '../src/graph/types';
import recordedAdmins from './fixtures/duo-recorded/admin_v1_admins.200.json';
import recordedGroups from './fixtures/duo-recorded/admin_v1_groups.200.json';
import recordedIntegrations from './fixtures/duo-recorded/admin_v1_integrations.200.json';
import recordedPhones from './fixtures/duo-recorded/admin_v1_phones.200.json';
import recordedSettings from './fixtures/duo-recorded/admin_v1_settings.200.json';
import recordedUsers from './fixtures/duo-recorded/admin_v1_users.200.json';

interface MigrationRow {
  type: string;
  /** The device kind of an `mfa_device` row (`hardware token`, `WebAuthn`, `U2F token`). */
  kind?: string;
  graphDuoProperty: string;
  property: string;
  change: string;
  graphDuoValue: string;
  now: string;
}

/** The rows of the migration table. */
function migrationRows(): MigrationRow[] {
  const doc = readFileSync(path.join(__dirname, '..', 'docs', 'migrating-from-graph-duo.md'), 'utf8');
  const code = (cell: string) => /^`([^`]*)`/.exec(cell.trim())?.[1];
  return doc
    .split('\n')
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .filter((cells) => cells.length === 8 && /^`[a-z_]+`/.test(cells[1]) && code(cells[2]) !== undefined)
    .map(([, type, graphDuoProperty, property, change, graphDuoValue, now]) => ({
      type: code(type)!,
      kind: /\(([^)]*)\)/.exec(type)?.[1],
      graphDuoProperty: code(graphDuoProperty)!,
      property: code(property)!,
      change,
      graphDuoValue,
      now,
    }));
}

const context: GraphInstanceContext = { siteId: '56cd46b9', apiHostname: 'api-56cd46b9.duosecurity.com' };

// The recorded responses, with the fields Duo documents that the 2022 recording happened not to
// carry (or carried as null), so that every `kept` row is checked against a value.
const settings = {
  ...recordedSettings.response,
  caller_id: '+15555550100',
  email_activity_notification_enabled: true,
  enrollment_universal_prompt_enabled: true,
  keypress_confirm: '#',
  keypress_fraud: '*',
  lockout_expire_duration: 30,
  log_retention_days: 180,
  pending_deletion_days: 7,
  push_activity_notification_enabled: false,
  reactivation_integration_key: 'DIREACTIVATION000001',
  unenrolled_user_lockout_threshold: 30,
  user_managers_can_put_users_in_bypass: false,
  voice_enabled: true,
};
const admin = { ...recordedAdmins.response[0], admin_units: ['DAUNITS0000000000001'], created: 1640995200 };
const group = { ...recordedGroups.response[0], voice_enabled: true };
// No token, WebAuthn credential or U2F token was recorded: records of the shape Duo documents.
const token = { serial: '1000001', token_id: 'DHIBKMS7RVD5A6NXA1W1', totp_step: null, type: 'yk' };
const webauthn = {
  credential_name: 'YubiKey 5 NFC',
  date_added: 1644967413,
  label: 'Security Key',
  webauthnkey: 'WAS8ZHV2HXT8BOQSKS2Y',
};
const u2f = { date_added: 1644967413, registration_id: 'D2X8G0Q3TWSIYNE0U0QE' };

/** Each row's Duo record and the entity duo-j1 makes of it. */
const SUBJECTS: Record<string, { record: object; entity: Entity }> = {
  duo_account: { record: settings, entity: convertAccount({ settings }, context) },
  duo_admin: { record: admin, entity: convertAdmin(admin, context) },
  duo_group: { record: group, entity: convertGroup(group, context) },
  duo_user: { record: recordedUsers.response[0], entity: convertUser(recordedUsers.response[0], context) },
  duo_phone: { record: recordedPhones.response[0], entity: convertPhone(recordedPhones.response[0], context) },
  duo_integration: {
    record: recordedIntegrations.response[0],
    entity: convertIntegration(recordedIntegrations.response[0], context),
  },
  'mfa_device (hardware token)': { record: token, entity: convertToken(token, context) },
  'mfa_device (WebAuthn)': { record: webauthn, entity: convertWebAuthnCredential(webauthn, context) },
  'mfa_device (U2F token)': { record: u2f, entity: convertU2fToken(u2f, context) },
};

/** graph-duo's value as a `kept` row gives it: a JSON constant, or a field path of the Duo record (`users[0].username`). */
function graphDuoValue(expression: string, record: object): unknown {
  try {
    return JSON.parse(expression);
  } catch {
    let value: unknown = record;
    for (const step of expression.split(/\.|(?=\[)/)) {
      const index = /^\[(\d+)\]$/.exec(step);
      value = (value as Record<string, unknown> | undefined)?.[index ? Number(index[1]) : step];
    }
    return value;
  }
}

describe('graph-duo compatibility (docs/migrating-from-graph-duo.md)', () => {
  const rows = migrationRows();

  it('lists each property graph-duo emitted once per entity kind, each a property duo-j1 declares', () => {
    assert.ok(rows.length > 100, `the table was read (${rows.length} rows)`);
    const seen = new Set<string>();
    for (const row of rows) {
      const id = `${row.type} ${row.kind ?? ''} ${row.graphDuoProperty}`;
      assert.ok(!seen.has(id), `${id} appears once`);
      seen.add(id);
      assert.ok(['kept', 'value', 'shape'].includes(row.change), `${id}: change "${row.change}"`);
      const kind = ENTITY_KIND_LIST.find((candidate) => candidate._type === row.type);
      assert.ok(kind, `${row.type} is a declared type`);
      assert.ok(row.property === '_key' || row.property in kind.properties, `${row.type}.${row.property} is declared`);
    }
  });

  it('keeps every property of the issue that was missing, under graph-duo’s name', () => {
    const missing: Record<string, string[]> = {
      duo_account: [
        'enrollmentModule',
        'fraudEmail',
        'helpdeskCanSendEnrollEmail',
        'helpdeskMessage',
        'instantRestoreEnabled',
        'mobileAnalyticsDisabled',
        'reactivationUrl',
        'reqFipsPasscodesAndroid',
        'smsBatch',
        'smsExpiration',
        'smsMessage',
        'smsRefresh',
        'telephonyWarningMin',
        'userTelephonyCostMax',
      ],
      duo_admin: ['adminId', 'created', 'phone'],
      duo_group: ['desc', 'groupId'],
      duo_phone: ['email', 'phoneNumber', 'userId', 'username', 'deviceId'],
      mfa_device: ['type'],
    };
    for (const [type, properties] of Object.entries(missing)) {
      for (const property of properties) {
        const row = rows.find((candidate) => candidate.type === type && candidate.graphDuoProperty === property);
        assert.equal(row?.property, property, `${type}.${property}`);
      }
    }
  });

  it("gives every kept property graph-duo's value on the recorded responses", () => {
    const kept = rows.filter((row) => row.change === 'kept');
    assert.ok(kept.length > 80, `${kept.length} kept rows`);
    for (const row of kept) {
      const subject = SUBJECTS[row.kind ? `${row.type} (${row.kind})` : row.type];
      assert.ok(subject, `a record for ${row.type} ${row.kind ?? ''}`);
      const expected = graphDuoValue(/^`(.*)`$/.exec(row.graphDuoValue)?.[1] ?? '', subject.record);
      const id = `${row.type} ${row.kind ?? ''} ${row.property} (${row.graphDuoValue})`;
      assert.notEqual(expected, undefined, `${id}: the record holds graph-duo's value`);
      assert.deepEqual(subject.entity[row.property], expected, id);
    }
  });

  it('says for every changed value or shape how to query it now', () => {
    for (const row of rows.filter((candidate) => candidate.change !== 'kept')) {
      assert.match(row.now, /`FIND [^`]+`/, `${row.type}.${row.property} has a J1QL example`);
    }
  });
});
