import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type {
  DuoAdmin,
  DuoGroup,
  DuoIntegrationRecord,
  DuoPhone,
  DuoSettings,
  DuoUser,
  DuoWebAuthnCredential,
} from '../src/duo/types';
import {
  UnconvertibleRecordError,
  adminPanelUrl,
  canonicalNames,
  convertAccount,
  convertAdmin,
  convertGroup,
  convertIntegration,
  convertPhone,
  convertToken,
  convertU2fToken,
  convertUser,
  convertWebAuthnCredential,
  normalisePlatform,
  type GraphInstanceContext,
} from '../src/graph/converters';
import { ENTITY_KINDS } from '../src/graph/data-model';
import { convertRecords } from '../src/graph/record-conversion';
import {
  directRelationship,
  directRelationshipJson,
  directRelationshipKey,
  employeeMapping,
  stagedDirectRelationship,
} from '../src/graph/relationships';
import { RELATIONSHIP_KINDS, type RelationshipKind } from '../src/graph/data-model';
import {
  graphIndexEntry,
  graphObjectHash,
  graphObjectJson,
  graphObjectJsonWithAnyCharacters,
  stagedGraphObject,
} from '../src/graph/serialization';
import type { Entity, GraphObject } from '../src/graph/types';
import { directRelationshipError, relationshipError, validateEntity } from '../src/graph/validation';

const FIXTURES = path.join(__dirname, 'fixtures', 'duo-recorded');

function recorded<T>(name: string): T {
  return (JSON.parse(readFileSync(path.join(FIXTURES, `${name}.200.json`), 'utf8')) as { response: T }).response;
}

const settings = recorded<DuoSettings>('admin_v1_settings');
const [ownerOne, ownerTwo] = recorded<DuoAdmin[]>('admin_v1_admins');
const [group] = recorded<DuoGroup[]>('admin_v1_groups');
const [user] = recorded<DuoUser[]>('admin_v1_users');
const [phone] = recorded<DuoPhone[]>('admin_v1_phones');
const [integration] = recorded<DuoIntegrationRecord[]>('admin_v1_integrations');

const context: GraphInstanceContext = { siteId: 'be7ff7c0', apiHostname: 'api-be7ff7c0.duosecurity.com' };
const raw = (rawData: object) => [{ name: 'default', rawData }];

/** Asserts the entity passes the data model unchanged (nothing had to be left out). */
function assertValidAsIs(entity: Entity): void {
  const result = validateEntity(entity);
  assert.ok(result.valid, `${entity._key} fails validation: ${result.valid ? '' : result.error}`);
  assert.deepEqual(result.removedProperties, []);
}

describe('graph converters on recorded Duo responses', () => {
  it('converts the account settings, with the graph-duo key and the Admin Panel link', () => {
    const entity = convertAccount({ settings }, context);
    assert.deepEqual(entity, {
      _key: 'duo-account:be7ff7c0:example-inc',
      _type: 'duo_account',
      _class: ['Account'],
      id: 'be7ff7c0',
      name: 'Example Inc',
      displayName: 'Example Inc Duo Account',
      siteId: 'be7ff7c0',
      vendor: 'Cisco Duo',
      webLink: 'https://admin-be7ff7c0.duosecurity.com/',
      accessURL: 'https://admin-be7ff7c0.duosecurity.com/',
      timezone: 'UTC',
      language: 'EN',
      lockoutThreshold: 10,
      inactiveUserExpiration: 0,
      inactiveAdminExpiration: 0,
      minimumPasswordLength: 12,
      passwordRequiresLowerAlpha: false,
      passwordRequiresUpperAlpha: false,
      passwordRequiresNumeric: false,
      passwordRequiresSpecial: false,
      pushEnabled: false,
      smsEnabled: false,
      mobileOtpEnabled: false,
      helpdeskBypass: 'allow',
      helpdeskBypassExpiration: 0,
      fraudEmailEnabled: true,
      // Recorded as the integer 1.
      securityCheckupEnabled: true,
      // graph-duo's settings: texts as Duo sends them (empty ones too), flags as booleans.
      enrollmentModule: 'new',
      fraudEmail: '',
      helpdeskCanSendEnrollEmail: false,
      helpdeskMessage: '',
      instantRestoreEnabled: true,
      mobileAnalyticsDisabled: false,
      reactivationUrl: '',
      reqFipsPasscodesAndroid: false,
      smsBatch: 1,
      smsExpiration: 0,
      smsMessage: 'SMS passcodes',
      smsRefresh: false,
      telephonyWarningMin: 0,
      userTelephonyCostMax: 20,
      _rawData: raw({ settings }),
    });
    assertValidAsIs(entity);
  });

  it('adds the info summary counts and tag.AccountName when the instance asks for it', () => {
    const infoSummary = {
      admin_count: 2,
      integration_count: 1,
      telephony_credits_remaining: 960,
      user_count: 1,
      user_pending_deletion_count: 0,
    };
    const entity = convertAccount(
      { settings, infoSummary },
      { ...context, accountName: 'Example Production', tagWithAccountName: true },
    );
    assert.equal(entity.adminCount, 2);
    assert.equal(entity.integrationCount, 1);
    assert.equal(entity.userCount, 1);
    assert.equal(entity.userPendingDeletionCount, 0);
    assert.equal(entity.telephonyCreditsRemaining, 960);
    assert.equal(entity['tag.AccountName'], 'Example Production');
    assert.deepEqual(entity._rawData, raw({ settings, infoSummary }));
    assertValidAsIs(entity);
  });

  it('converts administrators', () => {
    const entity = convertAdmin(ownerOne, context);
    assert.deepEqual(entity, {
      _key: 'duo-admin:DE5L076HW5D9M0LSGS35',
      _type: 'duo_admin',
      _class: ['User'],
      id: 'DE5L076HW5D9M0LSGS35',
      adminId: 'DE5L076HW5D9M0LSGS35',
      name: 'Owner One',
      displayName: 'Owner One',
      username: ['owner.one@example.com'],
      email: ['owner.one@example.com'],
      shortLoginId: ['owner.one'],
      firstName: 'Owner',
      lastName: 'One',
      admin: true,
      isAdmin: true,
      role: 'Owner',
      status: 'active',
      active: true,
      isActive: true,
      lastLogin: 1645116159000,
      phone: '+15555555555',
      passwordChangeRequired: false,
      restrictedByAdminUnits: false,
      _rawData: raw(ownerOne),
    });
    assertValidAsIs(entity);
    assert.equal(convertAdmin(ownerTwo, context)._key, 'duo-admin:DEUDTXS9EB88IQN84PY5');
  });

  it('converts groups', () => {
    const entity = convertGroup(group, context);
    assert.deepEqual(entity, {
      _key: 'duo-group:DGYM32D735SEKRC8X7S5',
      _type: 'duo_group',
      _class: ['UserGroup'],
      id: 'DGYM32D735SEKRC8X7S5',
      groupId: 'DGYM32D735SEKRC8X7S5',
      name: 'testJ1Group',
      displayName: 'testJ1Group',
      description: 'test group',
      desc: 'test group',
      status: 'bypass',
      active: false,
      pushEnabled: false,
      smsEnabled: false,
      mobileOtpEnabled: false,
      _rawData: raw(group),
    });
    assertValidAsIs(entity);
  });

  it('converts users: names split from the real name, arrays where the data model wants them', () => {
    const entity = convertUser(user, context);
    assert.deepEqual(entity, {
      _key: 'duo-user:DUNWSZS0P50553CA4FAH',
      _type: 'duo_user',
      _class: ['User'],
      id: 'DUNWSZS0P50553CA4FAH',
      name: 'Test User',
      displayName: 'Test User',
      username: ['testuser'],
      email: ['test.user+duo@example.com'],
      shortLoginId: ['testuser'],
      firstName: 'Test',
      lastName: 'User',
      status: 'active',
      active: true,
      isActive: true,
      mfaEnabled: true,
      isMfaEnabled: true,
      createdOn: 1644967413000,
      notes: ['Hello notes!'],
      _rawData: raw(user),
    });
    assertValidAsIs(entity);
  });

  it('converts phones: platform normalised, posture as booleans, a name made from the owner and model', () => {
    const entity = convertPhone(phone, context);
    assert.deepEqual(entity, {
      _key: 'DPB9DRDAI6PONK6CVHKC',
      _type: 'duo_phone',
      _class: ['Device'],
      id: 'DPB9DRDAI6PONK6CVHKC',
      name: "Test User's Google Pixel 5",
      displayName: "Test User's Google Pixel 5",
      category: 'mobile',
      number: '+15555555555',
      phoneNumber: '+15555555555',
      type: 'Mobile',
      platform: 'android',
      osType: 'android',
      osName: 'Google Android',
      model: 'Google Pixel 5',
      encrypted: true,
      tampered: false,
      screenLockEnabled: true,
      fingerprintEnabled: true,
      activated: true,
      smsPasscodesSent: false,
      capabilities: ['auto', 'push', 'sms', 'mobile_otp'],
      // 2022-02-17T16:42:38, which Duo reports in UTC without a zone.
      lastSeenOn: 1645116158000,
      owner: 'Test User',
      ownerUsername: 'testuser',
      userEmails: ['test.user+duo@example.com'],
      username: 'testuser',
      userId: 'DUNWSZS0P50553CA4FAH',
      email: 'test.user+duo@example.com',
      make: null,
      serial: null,
      deviceId: ['DPB9DRDAI6PONK6CVHKC'],
      hostname: null,
      fqdn: null,
      ipv4Addresses: null,
      ipv6Addresses: null,
      macAddresses: null,
      publicIpAddresses: null,
      privateIpAddresses: null,
      osDetails: null,
      osVersion: null,
      _rawData: raw(phone),
    });
    assertValidAsIs(entity);
  });

  it('converts integrations without their secret key', () => {
    const entity = convertIntegration(integration, context);
    const { secret_key: _secret, ...withoutSecret } = integration;
    assert.deepEqual(entity, {
      _key: 'DIVO3IQ5DFXJZNVM95WY',
      _type: 'duo_integration',
      _class: ['Application'],
      id: 'DIVO3IQ5DFXJZNVM95WY',
      name: 'Admin API',
      displayName: 'Admin API',
      type: 'adminapi',
      selfServiceAllowed: false,
      usernameNormalizationPolicy: 'None',
      adminApiAdmins: true,
      adminApiInfo: false,
      adminApiIntegrations: false,
      adminApiReadLog: false,
      adminApiReadResource: true,
      adminApiSettings: true,
      adminApiWriteResource: false,
      _rawData: raw(withoutSecret),
    });
    assert.ok(!JSON.stringify(entity).includes('secret_key'));
    assert.equal(integration.secret_key, '[REDACTED]', 'the input record is left untouched');
    assertValidAsIs(entity);
  });

  it('maps the user to an employee by lower-cased email, with the SDK key rule', () => {
    const mapping = employeeMapping(user, 'duo-user:DUNWSZS0P50553CA4FAH');
    assert.deepEqual(mapping, {
      _key: 'duo-user:DUNWSZS0P50553CA4FAH|is|REVERSE:_type=employee:email=test.user+duo@example.com',
      _type: 'duo_user_is_employee',
      _class: 'IS',
      displayName: 'IS',
      _mapping: {
        relationshipDirection: 'REVERSE',
        sourceEntityKey: 'duo-user:DUNWSZS0P50553CA4FAH',
        targetFilterKeys: [['_type', 'email']],
        targetEntity: {
          _type: 'employee',
          _class: 'Person',
          email: 'test.user+duo@example.com',
          firstName: 'Test',
          lastName: 'User',
          name: 'Test User',
          displayName: 'Test User',
        },
      },
    });
  });

  it('builds direct relationships with the SDK key rule', () => {
    assert.deepEqual(directRelationship(RELATIONSHIP_KINDS.userUsesPhone, 'duo-user:DU1', 'DPB9DRDAI6PONK6CVHKC'), {
      _key: 'duo-user:DU1|uses|DPB9DRDAI6PONK6CVHKC',
      _type: 'duo_user_uses_phone',
      _class: 'USES',
      _fromEntityKey: 'duo-user:DU1',
      _toEntityKey: 'DPB9DRDAI6PONK6CVHKC',
      displayName: 'USES',
    });
  });
});

describe('direct relationships written from their strings', () => {
  // Ends a record can name: quotes, backslashes, control and non-ASCII characters, a lone surrogate.
  const awkwardEnds = [
    ['duo-user:DU1', 'DPB9DRDAI6PONK6CVHKC'],
    ['duo-user:"quoted"\\back', 'duo-group:tab\there\nnew line'],
    ['duo-user:Zoë Ångström', 'duo-group:日本語 \u{1F600}'],
    ['duo-user:\ud800 lone', 'x'],
    ['', 'duo-group:DG1'],
    ['a', 'b'],
  ];
  const kinds: RelationshipKind[] = [
    ...Object.values(RELATIONSHIP_KINDS),
    // A kind the data model would not pass: its type and class are too short.
    { ...RELATIONSHIP_KINDS.groupHasUser, _type: 'ab' },
    { ...RELATIONSHIP_KINDS.groupHasUser, _class: 'H' },
  ];

  it('has the canonical text of the object the builder makes', () => {
    for (const kind of kinds) {
      for (const [from, to] of awkwardEnds) {
        const relationship = directRelationship(kind, from, to);
        const key = directRelationshipKey(kind, from, to);
        assert.equal(key, relationship._key);
        const text = directRelationshipJson(kind, from, key, to);
        assert.equal(text, graphObjectJsonWithAnyCharacters(relationship), `${kind._type} ${from} → ${to}`);
        assert.deepEqual(stagedDirectRelationship(kind, from, key, to), stagedGraphObject(relationship));
      }
    }
  });

  it('fails the check exactly when the object the builder makes fails it, with the same error', () => {
    const errors = new Set<string | undefined>();
    for (const kind of kinds) {
      for (const [from, to] of awkwardEnds) {
        const relationship = directRelationship(kind, from, to);
        const error = directRelationshipError(kind, from, relationship._key, to);
        assert.equal(error, relationshipError(relationship), `${kind._type} ${from} → ${to}`);
        errors.add(error);
      }
    }
    assert.ok(errors.has(undefined), 'some pass');
    assert.ok(errors.size >= 4, `the short key, type, class and empty end each fail: ${[...errors].join('; ')}`);
  });

  it('stages a batch whose texts and index entries are those of each object, byte for byte', () => {
    const users = [
      {
        user_id: 'DU"Zoë"\\1',
        username: 'zoë',
        realname: 'Zoë Ångström 日本',
        email: 'zoe@example.com',
        groups: [{ group_id: 'DG\u{1F600}' }, { group_id: 'DG"2' }],
        phones: [{ phone_id: 'DPÅ' }],
      },
      { user_id: 'DUPLAIN0000000000001', username: 'plain', groups: [{ group_id: 'DG1' }] },
    ];
    const { objects } = convertRecords('users', users, {
      siteId: 'example',
      apiHostname: 'api-example.duosecurity.com',
    });
    const texts = Buffer.from(objects.texts);
    const entries = Buffer.from(objects.entries);
    assert.ok(objects.textEnds.length > users.length, 'entities and their edges');
    for (let id = 0; id < objects.textEnds.length; id += 1) {
      const text = texts.toString('latin1', id === 0 ? 0 : objects.textEnds[id - 1], objects.textEnds[id]);
      const graphObject = JSON.parse(text) as GraphObject;
      assert.equal(text, graphObjectJson(graphObject), 'its canonical text, ASCII only');
      const entry = entries.toString('utf8', id === 0 ? 0 : objects.entryEnds[id - 1], objects.entryEnds[id]);
      assert.equal(entry, JSON.stringify(graphIndexEntry(graphObject, graphObjectHash(text))));
    }
  });
});

describe('graph converters on awkward records', () => {
  const bareUser: DuoUser = { user_id: 'DUAWKWARD00000000001', username: 'nobody' };

  it('keeps a user with a malformed email, without the email and without an employee mapping', () => {
    const entity = convertUser({ ...bareUser, email: 'not an email@example.com' }, context);
    assert.equal(entity.email, null);
    assert.equal(entity.name, 'nobody', 'falls back to the username');
    assert.equal(entity.firstName, null);
    assertValidAsIs(entity);
    assert.equal(employeeMapping({ ...bareUser, email: 'not an email@example.com' }, entity._key), undefined);
    assert.equal(employeeMapping({ ...bareUser, email: '' }, entity._key), undefined);
    assert.equal(employeeMapping(bareUser, entity._key), undefined);
  });

  it('names an employee from the email when Duo has no name, and lower-cases the email', () => {
    const mapping = employeeMapping(
      { ...bareUser, email: 'Jane.Doe@Example.COM', realname: '' },
      'duo-user:X1234567890',
    );
    assert.deepEqual(mapping?._mapping.targetEntity, {
      _type: 'employee',
      _class: 'Person',
      email: 'jane.doe@example.com',
      firstName: 'jane',
      lastName: 'doe',
      name: 'jane doe',
      displayName: 'jane doe',
    });
    // Each name falls back on its own; a `+tag` is not part of anyone's name.
    const partial = employeeMapping(
      { ...bareUser, realname: 'Björk', email: 'bjork.gudmunds+duo@example.com' },
      'duo-user:X1',
    );
    assert.deepEqual(
      [
        partial?._mapping.targetEntity.firstName,
        partial?._mapping.targetEntity.lastName,
        partial?._mapping.targetEntity.name,
      ],
      ['Björk', 'gudmunds', 'Björk'],
    );
    const single = employeeMapping({ ...bareUser, email: 'jdoe@example.com' }, 'duo-user:X1');
    assert.deepEqual([single?._mapping.targetEntity.firstName, single?._mapping.targetEntity.lastName], ['jdoe', '']);
  });

  it('keeps unicode names as they are', () => {
    const entity = convertUser({ ...bareUser, realname: 'Zoë Åström-王', email: 'zoe@example.com' }, context);
    assert.equal(entity.name, 'Zoë Åström-王');
    assert.equal(entity.firstName, 'Zoë');
    assert.equal(entity.lastName, 'Åström-王');
    assertValidAsIs(entity);
    const oneWord = convertUser({ ...bareUser, realname: 'Björk' }, context);
    assert.equal(oneWord.firstName, 'Björk');
    assert.equal(oneWord.lastName, null, 'a one-word real name has no last name');
  });

  it('treats bypass users as active and locked-out users as inactive, and keeps the lockout reason', () => {
    assert.equal(convertUser({ ...bareUser, status: 'bypass' }, context).active, true);
    const locked = convertUser({ ...bareUser, status: 'locked out', lockout_reason: 'Failed attempts' }, context);
    assert.equal(locked.active, false);
    assert.equal(locked.lockoutReason, 'Failed attempts');
  });

  it('names a phone without a name or user from its model and number', () => {
    const desk = convertPhone(
      {
        phone_id: 'DPDESK00000000000001',
        number: '+15550001111',
        type: 'Landline',
        model: 'Unknown',
        platform: 'Unknown',
        users: [],
      },
      context,
    );
    assert.equal(desk.name, 'Landline +15550001111');
    assert.equal(desk.platform, null);
    assert.equal(desk.category, 'landline');
    assert.equal(desk.lastSeenOn, null);
    assert.equal(desk.encrypted, undefined, 'blank posture stays unknown');
    assertValidAsIs(desk);
    const tablet = convertPhone(
      { phone_id: 'DPTABLET000000000001', number: '', model: 'iPad Air', platform: 'Apple iOS' },
      context,
    );
    assert.equal(tablet.name, 'iPad Air DPTABLET000000000001');
    assert.equal(tablet.osType, 'ios');
  });

  it('normalises platforms to the data model osType values', () => {
    assert.equal(normalisePlatform('Apple iOS'), 'ios');
    assert.equal(normalisePlatform('Google Android'), 'android');
    assert.equal(normalisePlatform('Windows Phone'), 'windows');
    assert.equal(normalisePlatform('RIM BlackBerry'), 'legacy');
    assert.equal(normalisePlatform('Generic Smartphone'), 'other');
    assert.equal(normalisePlatform('Something New'), 'other');
    assert.equal(normalisePlatform('Unknown'), null);
    assert.equal(normalisePlatform(''), null);
  });

  it('converts hardware tokens, WebAuthn credentials and U2F tokens to MFA devices', () => {
    const token = convertToken(
      { token_id: 'DHTOKEN0000000000001', serial: '1000001', type: 'yk', totp_step: null },
      context,
    );
    assert.equal(token._key, 'mfa-device:DHTOKEN0000000000001');
    assert.equal(token.name, 'YubiKey 1000001');
    assert.equal(token.factorType, 'token');
    assert.equal(token.tokenType, 'yk');
    assert.equal(token.totpStep, undefined);
    assertValidAsIs(token);

    const credential: DuoWebAuthnCredential = {
      webauthnkey: 'WAKEY000000000000001',
      credential_name: '',
      label: 'Touch ID',
      date_added: 1650000000,
      user: { user_id: 'DU1', username: 'u' },
    };
    const webauthn = convertWebAuthnCredential(credential, context);
    assert.equal(webauthn._key, 'mfa-device:WAKEY000000000000001');
    assert.equal(webauthn.name, 'Touch ID', 'an empty credential name falls back to the label');
    assert.equal(webauthn.createdOn, 1650000000000);
    assert.equal(webauthn.factorType, 'webauthn');
    assertValidAsIs(webauthn);

    const u2f = convertU2fToken({ registration_id: 'D2U2F000000000000001', date_added: 1600000000 }, context);
    assert.equal(u2f._key, 'mfa-device:D2U2F000000000000001');
    assert.equal(u2f.factorType, 'u2f');
    assert.equal(u2f._type, ENTITY_KINDS.mfaDevice._type);
    assertValidAsIs(u2f);
  });

  it('links Duo Federal accounts to their own Admin Panel', () => {
    assert.equal(
      adminPanelUrl({ siteId: '1a2b3c4d', apiHostname: 'https://api-1a2b3c4d.duofederal.com/' }),
      'https://admin-1a2b3c4d.duofederal.com/',
    );
  });

  it('refuses a record without an id, naming the missing field', () => {
    assert.throws(
      () => convertUser({ username: 'ghost' } as DuoUser, context),
      (error: unknown) => error instanceof UnconvertibleRecordError && /user_id/.test(error.message),
    );
  });

  it('does not modify the records it converts', () => {
    const copy = JSON.parse(JSON.stringify(phone)) as DuoPhone;
    convertPhone(copy, { ...context, tagWithAccountName: true, accountName: 'A' });
    assert.deepEqual(copy, phone);
  });
});

describe('canonical property order', () => {
  it("keeps each converter's own property names, whichever literal of the same size came first", () => {
    // A hardware token and a WebAuthn credential with as many properties as each other, as they
    // would be the day one more property is declared on either.
    const token = {
      id: 'T',
      name: 'T',
      displayName: 'T',
      factorType: 'token',
      serial: 'S',
      tokenType: 'h6',
      totpStep: 30,
    };
    const webauthn = {
      id: 'W',
      name: 'W',
      displayName: 'W',
      factorType: 'webauthn',
      label: 'L',
      createdOn: 1,
      serial: 'S',
    };
    const expected = (values: object) => [...Object.keys(values), '_key', '_type', '_class', 'tag.AccountName'].sort();
    for (const values of [token, webauthn, token, webauthn]) {
      assert.deepEqual(canonicalNames('mfaDevice', values), expected(values), Object.keys(values).join());
    }
    for (const values of [webauthn, token]) assert.deepEqual(canonicalNames('mfaDevice', values), expected(values));
  });
});

describe('entity validation', () => {
  const base: Entity = {
    _key: 'duo-user:DUVALID0000000000001',
    _type: 'duo_user',
    _class: ['User'],
    name: 'Valid',
    displayName: 'Valid',
    username: ['valid'],
    email: ['valid@example.com'],
    shortLoginId: ['valid'],
    firstName: null,
    lastName: null,
  };

  it('leaves out a value the schema rejects, nulling it when the schema requires it', () => {
    const result = validateEntity({ ...base, email: ['not-an-email'], webLink: 'not a uri' });
    assert.ok(result.valid);
    assert.equal(result.entity.email, null);
    assert.equal('webLink' in result.entity, false);
    assert.deepEqual(result.removedProperties.sort(), ['email', 'webLink']);
  });

  it('drops an entity whose key or name is unusable, with the schema error', () => {
    const shortKey = validateEntity({ ...base, _key: 'short' });
    assert.equal(shortKey.valid, false);
    assert.match(shortKey.valid ? '' : shortKey.error, /_key/);
    const noName = validateEntity({ ...base, name: undefined });
    assert.equal(noName.valid, false);
    assert.match(noName.valid ? '' : noName.error, /name/);
  });

  it('reports a required property a converter forgot instead of inventing it', () => {
    const { username: _username, ...withoutUsername } = base;
    const result = validateEntity(withoutUsername as Entity);
    assert.equal(result.valid, false);
    assert.match(result.valid ? '' : result.error, /username/);
  });
});
