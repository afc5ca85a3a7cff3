import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IntegrationSchema } from '@jupiterone/data-model';
import type { DuoPhone, DuoUser } from '../src/duo/types';
import { buildGraph, type BuildGraphSummary } from '../src/graph/build-graph';
import type { GraphInstanceContext } from '../src/graph/converters';
import {
  DECLARED_TYPES,
  ENTITY_KEYS,
  ENTITY_KINDS,
  ENTITY_TYPES,
  GRAPH_DATASETS,
  LOG_ENTITY_KINDS,
  LOG_RELATIONSHIP_KINDS,
  MAPPED_RELATIONSHIP_KINDS,
  RELATIONSHIP_KINDS,
} from '../src/graph/data-model';
import { RESOURCE_NAMES, type ResourceName } from '../src/resources/table';
import { ConvertedPartReader, convertedDatasetName, decodeConvertedPart } from '../src/graph/converted-part';
import type { FetchOutcomeLike } from '../src/graph/partial-datasets';
import type { ConvertedBatch } from '../src/graph/record-conversion';
import { graphObjectHash, graphObjectJson, type GraphIndexEntry } from '../src/graph/serialization';
import {
  isMappedRelationship,
  type DirectRelationship,
  type Entity,
  type MappedRelationship,
  type Relationship,
} from '../src/graph/types';
import { graphObjectSchemaError, isValidEmail } from '../src/graph/validation';
import { generateTenant, type DuoTenant } from '../src/simulators/duo/tenant-generator';
import { readDatasetTexts } from '../src/staging/json-lines';
import { LocalDirectoryStagingStore } from '../src/staging/local-directory-store';
import { StagedInputMissingError, type StagedRun } from '../src/staging/store';
import { readStagedObjects, stageRecords, taggedContext } from './harness/staging';
import { tenantRecords } from './harness/tenant-records';

const roots: string[] = [];
const runFolders = new Map<StagedRun, string>();

async function newRun(): Promise<StagedRun> {
  const root = mkdtempSync(path.join(tmpdir(), 'duo-j1-graph-'));
  roots.push(root);
  const run = (await LocalDirectoryStagingStore.open(root)).openRun('graph-test');
  runFolders.set(run, path.join(root, 'runs', 'graph-test'));
  return run;
}

/** Where the local store keeps a dataset's part files. */
function partFolder(run: StagedRun, dataset: string): string {
  return path.join(runFolders.get(run)!, ...dataset.split('/'));
}

/** Stages a tenant the way the fetch stage does: one dataset per resource, secrets already dropped. */
async function stageTenant(run: StagedRun, tenant: DuoTenant, context: GraphInstanceContext): Promise<void> {
  // Small pages, so the build reads across part boundaries.
  for (const resource of RESOURCE_NAMES)
    await stageRecords(run, resource, tenantRecords(tenant, resource), context, 97);
}

function allComplete(failed: Partial<Record<ResourceName, string>> = {}): Record<ResourceName, FetchOutcomeLike> {
  return Object.fromEntries(
    RESOURCE_NAMES.map((r) => [r, failed[r] ? { status: 'failed', reason: failed[r] } : { status: 'complete' }]),
  ) as Record<ResourceName, FetchOutcomeLike>;
}

interface Graph {
  entities: Entity[];
  relationships: DirectRelationship[];
  mapped: MappedRelationship[];
  datasets: string[];
}

async function readGraph(run: StagedRun): Promise<Graph> {
  const graph: Graph = { entities: [], relationships: [], mapped: [], datasets: await run.listDatasets('graph') };
  for (const { dataset, kind } of GRAPH_DATASETS) {
    for (const object of await readStagedObjects<Entity | Relationship>(run, dataset)) {
      if (kind === 'entities') graph.entities.push(object as Entity);
      else if (isMappedRelationship(object as Relationship)) graph.mapped.push(object as MappedRelationship);
      else graph.relationships.push(object as DirectRelationship);
    }
  }
  return graph;
}

function validEmailOf(user: DuoUser): boolean {
  return typeof user.email === 'string' && user.email.trim() !== '' && isValidEmail(user.email.trim().toLowerCase());
}

describe('buildGraph on a generated tenant', function () {
  this.timeout(60_000);

  const tenant = generateTenant({ users: 400, seed: 11, tokens: 80 });
  const context = taggedContext(tenant, 'Generated Tenant');
  let run: StagedRun;
  let summary: BuildGraphSummary;
  let graph: Graph;

  before(async () => {
    run = await newRun();
    await stageTenant(run, tenant, context);
    summary = await buildGraph(run, allComplete(), context, { recordsPerPart: 113 });
    graph = await readGraph(run);
  });

  after(async () => {
    for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
  });

  it('produces every declared type and nothing undeclared, and reports what it wrote', () => {
    const produced = new Set([...graph.entities, ...graph.relationships, ...graph.mapped].map((o) => o._type));
    // Built without Duo's logs: no log facts (test/log-tail.test.ts builds with them).
    const fromLogs: string[] = [
      ...LOG_ENTITY_KINDS.map((id) => ENTITY_KINDS[id]._type),
      ...LOG_RELATIONSHIP_KINDS.map((id) => RELATIONSHIP_KINDS[id]._type),
    ];
    assert.deepEqual([...produced].sort(), DECLARED_TYPES.filter((type) => !fromLogs.includes(type)).sort());
    assert.deepEqual(graph.datasets, GRAPH_DATASETS.map((d) => d.dataset).sort());
    for (const type of ENTITY_TYPES) {
      assert.equal(summary.entities[type], graph.entities.filter((e) => e._type === type).length, type);
    }
    assert.equal(summary.entities[ENTITY_KINDS.user._type], tenant.users.length);
    assert.equal(summary.entities[ENTITY_KINDS.phone._type], tenant.phones.length);
    assert.deepEqual(summary.partialTypes, []);
    assert.equal(summary.dropped.count, 0);
  });

  it('every entity passes @jupiterone/data-model validation for its class, tagged with the account name', () => {
    for (const entity of graph.entities) {
      for (const cls of entity._class) {
        const validate = IntegrationSchema.getSchema(`#${cls}`);
        assert.ok(validate, cls);
        assert.ok(validate(entity), `${entity._key} as ${cls}: ${JSON.stringify(validate.errors)}`);
      }
      assert.equal(entity['tag.AccountName'], 'Generated Tenant');
      assert.ok(typeof entity.name === 'string' && entity.name.trim() !== '', `${entity._key} has a name`);
      assert.ok(
        typeof entity.displayName === 'string' && entity.displayName.trim() !== '',
        `${entity._key} has a display name`,
      );
    }
  });

  it('every relationship passes the GraphObject schema', () => {
    for (const relationship of [...graph.relationships, ...graph.mapped]) {
      assert.equal(graphObjectSchemaError(relationship), undefined, relationship._key);
    }
  });

  it('sets only declared properties', () => {
    const declared = new Map<string, Set<string>>(
      Object.values(ENTITY_KINDS).map((k) => [
        k._type,
        new Set(['_key', '_type', '_class', '_rawData', 'tag.AccountName', ...Object.keys(k.properties)]),
      ]),
    );
    for (const entity of graph.entities) {
      for (const property of Object.keys(entity)) {
        assert.ok(declared.get(entity._type)?.has(property), `${entity._type}.${property} is declared`);
      }
    }
  });

  it('keys are unique across all graph objects', () => {
    const keys = [...graph.entities, ...graph.relationships, ...graph.mapped].map((o) => o._key);
    assert.equal(new Set(keys).size, keys.length);
  });

  it("every direct relationship's ends exist", () => {
    const entityKeys = new Set(graph.entities.map((e) => e._key));
    for (const relationship of graph.relationships) {
      assert.ok(entityKeys.has(relationship._fromEntityKey), `${relationship._key}: from`);
      assert.ok(entityKeys.has(relationship._toEntityKey), `${relationship._key}: to`);
    }
    for (const mapping of graph.mapped) assert.ok(entityKeys.has(mapping._mapping.sourceEntityKey), mapping._key);
  });

  it('a token or phone shared by several users is one entity with one edge per user', () => {
    const sharedTokens = tenant.tokens.filter((t) => (t.users?.length ?? 0) > 1);
    const sharedPhones = tenant.phones.filter((p) => (p.users?.length ?? 0) > 1);
    assert.ok(sharedTokens.length > 0 && sharedPhones.length > 0, 'the tenant has shared tokens and phones');
    for (const token of sharedTokens) {
      const key = ENTITY_KEYS.mfaDevice(token.token_id);
      assert.equal(graph.entities.filter((e) => e._key === key).length, 1);
      const owners = graph.relationships
        .filter((r) => r._toEntityKey === key && r._type === RELATIONSHIP_KINDS.userAssignedMfaDevice._type)
        .map((r) => r._fromEntityKey);
      assert.deepEqual(owners.sort(), token.users!.map((u) => ENTITY_KEYS.user(u.user_id)).sort());
    }
    for (const phone of sharedPhones) {
      const key = ENTITY_KEYS.phone(phone.phone_id);
      assert.equal(graph.entities.filter((e) => e._key === key).length, 1);
      const users = graph.relationships
        .filter((r) => r._type === RELATIONSHIP_KINDS.userUsesPhone._type && r._toEntityKey === key)
        .map((r) => r._fromEntityKey);
      assert.deepEqual(users.sort(), phone.users!.map((u) => ENTITY_KEYS.user(u.user_id)).sort());
    }
    const unusedPhones = tenant.phones.filter((p) => (p.users?.length ?? 0) === 0);
    assert.ok(unusedPhones.length > 0, 'the tenant has phones nobody uses');
    for (const phone of unusedPhones) {
      assert.ok(
        graph.entities.some((e) => e._key === ENTITY_KEYS.phone(phone.phone_id)),
        'an unused phone is still an entity',
      );
    }
  });

  it('links each user to its groups and to the account', () => {
    const user = tenant.users.find((u) => (u.groups?.length ?? 0) > 1)!;
    const userKey = ENTITY_KEYS.user(user.user_id);
    const groups = graph.relationships.filter(
      (r) => r._type === RELATIONSHIP_KINDS.groupHasUser._type && r._toEntityKey === userKey,
    );
    assert.deepEqual(
      groups.map((r) => r._fromEntityKey).sort(),
      user.groups!.map((g) => ENTITY_KEYS.group(g.group_id)).sort(),
    );
    const accountEdges = graph.relationships.filter((r) => r._type === RELATIONSHIP_KINDS.accountHasUser._type);
    assert.equal(accountEdges.length, tenant.users.length);
  });

  it('links bypass codes to their user and, by email in any case, their creator; never a code anywhere', () => {
    const codes = tenant.bypassCodes;
    assert.ok(codes.some((code) => code.expiration === null) && codes.some((code) => code.reuse_count === null));
    const adminByEmail = new Map(tenant.admins.map((admin) => [String(admin.email).toLowerCase(), admin.admin_id]));
    const created = graph.relationships.filter((r) => r._type === RELATIONSHIP_KINDS.adminCreatedBypassCode._type);
    const expected = codes
      .filter((code) => adminByEmail.has(String(code.admin_email).toLowerCase()))
      .map(
        (code) =>
          `${ENTITY_KEYS.admin(adminByEmail.get(String(code.admin_email).toLowerCase())!)}>${ENTITY_KEYS.bypassCode(code.bypass_code_id)}`,
      );
    assert.ok(expected.length < codes.length, 'some codes were made by an administrator no longer there');
    assert.ok(
      codes.some((code) => code.admin_email !== String(code.admin_email).toLowerCase()),
      'and some in upper case',
    );
    assert.deepEqual(created.map((r) => `${r._fromEntityKey}>${r._toEntityKey}`).sort(), expected.sort());
    const owned = graph.relationships.filter((r) => r._type === RELATIONSHIP_KINDS.userHasBypassCode._type);
    assert.equal(owned.length, codes.length);
    for (const entity of graph.entities.filter((e) => e._type === ENTITY_KINDS.bypassCode._type)) {
      assert.ok(
        !/code"\s*:|passcode/i.test(JSON.stringify(entity).replace(/bypass_code_id|bypassCode/g, '')),
        entity._key,
      );
    }
  });

  it('links endpoints to the account and, by email, their user; maps those with a name to devices', () => {
    const endpoints = graph.entities.filter((e) => e._type === ENTITY_KINDS.endpoint._type);
    assert.equal(endpoints.length, tenant.endpoints.length);
    const accountEdges = graph.relationships.filter((r) => r._type === RELATIONSHIP_KINDS.accountHasEndpoint._type);
    assert.equal(accountEdges.length, tenant.endpoints.length);
    const userByEmail = new Map(
      tenant.users.filter(validEmailOf).map((user) => [String(user.email).toLowerCase(), user.user_id]),
    );
    const uses = graph.relationships.filter((r) => r._type === RELATIONSHIP_KINDS.userUsesEndpoint._type);
    const expected = tenant.endpoints
      .filter((endpoint) => endpoint.email && userByEmail.has(endpoint.email.toLowerCase()))
      .map(
        (endpoint) =>
          `${ENTITY_KEYS.user(userByEmail.get(endpoint.email!.toLowerCase())!)}>${ENTITY_KEYS.endpoint(endpoint.epkey)}`,
      );
    assert.ok(expected.length < tenant.endpoints.length, 'some endpoints have no user');
    assert.deepEqual(uses.map((r) => `${r._fromEntityKey}>${r._toEntityKey}`).sort(), expected.sort());
    const devices = graph.mapped.filter((m) => m._type === MAPPED_RELATIONSHIP_KINDS.endpointIsDevice._type);
    assert.equal(devices.length, tenant.endpoints.filter((endpoint) => endpoint.device_name).length);
    assert.ok(
      devices.every((m) => m._mapping.skipTargetCreation === true && m._mapping.targetEntity._class === 'Device'),
    );
  });

  it('maps users with a valid email to employees, and no others', () => {
    const withEmail = tenant.users.filter(validEmailOf);
    const without = tenant.users.filter((u) => !validEmailOf(u));
    assert.ok(without.length >= 2, 'the tenant has users with missing and malformed emails');
    assert.ok(
      tenant.users.some((u) => u.email && u.email !== u.email.toLowerCase() && validEmailOf(u)),
      'and upper-case ones',
    );
    const userMappings = graph.mapped.filter((m) => m._type === MAPPED_RELATIONSHIP_KINDS.userIsEmployee._type);
    const mappedSources = new Set(userMappings.map((m) => m._mapping.sourceEntityKey));
    assert.equal(userMappings.length, withEmail.length);
    for (const user of without)
      assert.ok(!mappedSources.has(ENTITY_KEYS.user(user.user_id)), `${user.user_id} has no mapping`);
    for (const mapping of userMappings) {
      const email = mapping._mapping.targetEntity.email as string;
      assert.equal(email, email.toLowerCase());
      assert.ok(mapping._key.endsWith(`|is|REVERSE:_type=employee:email=${email}`));
      for (const name of ['firstName', 'lastName', 'name', 'displayName']) {
        assert.equal(typeof mapping._mapping.targetEntity[name], 'string', name);
      }
      assert.ok((mapping._mapping.targetEntity.name as string).length > 0);
    }
    // Their user entities are still there, with a null email.
    for (const user of without) {
      const entity = graph.entities.find((e) => e._key === ENTITY_KEYS.user(user.user_id));
      assert.equal(entity?.email, null);
    }
  });

  it('keeps unicode names intact', () => {
    const unicodeUsers = tenant.users.filter((u) => u.realname && /[^\x20-\x7e]/.test(u.realname));
    assert.ok(unicodeUsers.length > 0);
    for (const user of unicodeUsers) {
      const entity = graph.entities.find((e) => e._key === ENTITY_KEYS.user(user.user_id));
      assert.equal(entity?.name, user.realname);
    }
    const unnamed = tenant.users.find((u) => !u.realname && !u.firstname)!;
    assert.equal(graph.entities.find((e) => e._key === ENTITY_KEYS.user(unnamed.user_id))?.name, unnamed.username);
  });

  it('keeps no secret in any _rawData', () => {
    const text = JSON.stringify(graph.entities);
    assert.ok(!text.includes('secret_key'));
    for (const integration of tenant.integrations)
      assert.ok(!text.includes(integration.secret_key!), integration.integration_key);
  });

  it('every U2F token found in user records becomes an MFA device of its user', () => {
    const owners = tenant.users.filter((u) => (u.u2ftokens?.length ?? 0) > 0);
    assert.ok(owners.length > 0);
    for (const user of owners) {
      for (const token of user.u2ftokens!) {
        const key = ENTITY_KEYS.mfaDevice(token.registration_id);
        assert.equal(graph.entities.find((e) => e._key === key)?.factorType, 'u2f');
        assert.ok(
          graph.relationships.some(
            (r) => r._fromEntityKey === ENTITY_KEYS.user(user.user_id) && r._toEntityKey === key,
          ),
        );
      }
    }
  });

  it('builds the same graph again when retried', async () => {
    const again = await buildGraph(run, allComplete(), context, { recordsPerPart: 113 });
    assert.deepEqual(again, summary);
    const reread = await readGraph(run);
    assert.equal(reread.entities.length, graph.entities.length);
    assert.equal(reread.relationships.length, graph.relationships.length);
  });
});

describe('buildGraph with failures, duplicates and invalid records', function () {
  this.timeout(60_000);

  const tenant = generateTenant({ users: 60, seed: 5, tokens: 12 });
  const context: GraphInstanceContext = { siteId: tenant.siteId, apiHostname: tenant.apiHostname };

  after(async () => {
    for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
  });

  it('reports progress per resource, counts what it read, and stops when aborted', async () => {
    const run = await newRun();
    const manyGroups = generateTenant({ users: 60, seed: 5, tokens: 12, groups: 1200 });
    await stageTenant(run, manyGroups, context);
    const events: string[] = [];
    const summary = await buildGraph(run, allComplete(), context, {
      onProgress: ({ resource, records }) => events.push(`${resource}:${records}`),
    });
    assert.deepEqual(events, [
      'account:0',
      'admins:0',
      'groups:0',
      'groups:1000',
      'policies:0',
      'integrations:0',
      'phones:0',
      'tokens:0',
      'webauthn:0',
      'users:0',
      'bypassCodes:0',
      'endpoints:0',
      'adminUnits:0',
    ]);
    assert.equal(summary.recordsRead.groups, 1200);
    assert.equal(summary.recordsRead.users, manyGroups.users.length);
    assert.equal(summary.recordsRead.account, 1);

    const controller = new AbortController();
    const stopped = buildGraph(run, allComplete(), context, {
      onProgress: ({ resource }) => {
        if (resource === 'phones') controller.abort(new Error('activity cancelled'));
      },
      signal: controller.signal,
    });
    await assert.rejects(stopped, /activity cancelled/);
  });

  it('refuses converted parts that are not what their manifest says: changed, cut short, gone, or converted otherwise', async () => {
    const run = await newRun();
    await stageTenant(run, tenant, context);
    // The users staged as a fetch stages them: two pages, with their checksums in the manifest.
    const dataset = convertedDatasetName('users');
    await run.removeDataset(dataset);
    const parts = await stageRecords(run, 'users', tenant.users, context, 30);
    assert.ok(parts.length > 1);
    const built = await buildGraph(run, allComplete(), context);
    assert.equal(built.entities[ENTITY_KINDS.user._type], tenant.users.length, 'intact parts build');

    const bytes = await run.readPart(dataset, 1);
    // The same size, another content: only the checksum can tell.
    const changed = Buffer.from(bytes);
    const at = changed.indexOf('"user_id":"') + '"user_id":"'.length;
    changed[at] = changed[at] === 0x41 ? 0x42 : 0x41;
    await run.writePart(dataset, 1, changed, parts[1].records);
    await assert.rejects(
      buildGraph(run, allComplete(), context),
      (error: unknown) =>
        error instanceof StagedInputMissingError && /part 1 is not as written: its SHA-256/.test(error.message),
    );
    await run.writePart(dataset, 1, bytes.subarray(0, bytes.length - 100), parts[1].records);
    await assert.rejects(
      buildGraph(run, allComplete(), context),
      /part 1 is not as written: \d+ bytes where its manifest says/,
    );
    await rm(path.join(partFolder(run, dataset), 'part-000001'));
    await assert.rejects(buildGraph(run, allComplete(), context), /part 1 is gone/);

    // Parts converted for another instance setting (here: no account-name tag) are not this build's.
    await stageRecords(run, 'users', tenant.users, { ...context, tagWithAccountName: false }, 30);
    await assert.rejects(
      buildGraph(run, allComplete(), context),
      (error: unknown) =>
        error instanceof StagedInputMissingError && /converted with other instance settings/.test(error.message),
    );
  });

  it('reads converted parts into the same few buffers, each batch as staged, a changed part still refused', async () => {
    const run = await newRun();
    const parts = await stageRecords(run, 'users', tenant.users, context, 20);
    assert.equal(parts.length, 3, 'three parts of 20 users');
    // What each part holds, read the plain way: its records and its objects' texts.
    const expected = await Promise.all(
      parts.map(async (part) => {
        const batch = decodeConvertedPart(await run.readPart(convertedDatasetName('users'), part.index))!;
        return { records: JSON.stringify(batch.records), texts: Buffer.from(batch.objects.texts).toString('utf8') };
      }),
    );
    const asStaged = (batch: ConvertedBatch) => ({
      records: JSON.stringify(batch.records),
      texts: Buffer.from(batch.objects.texts).toString('utf8'),
    });
    const reader = new ConvertedPartReader(run, 1);

    const first = await reader.read('users', parts[0]);
    assert.deepEqual(asStaged(first.batch), expected[0]);
    const memory = first.batch.objects.texts.buffer;
    first.release();
    const second = await reader.read('users', parts[1]);
    assert.deepEqual(asStaged(second.batch), expected[1]);
    assert.equal(second.batch.objects.texts.buffer, memory, 'the second part is read into the first one’s buffer');
    // Not released: the next part goes elsewhere, and this one stays as it was.
    const third = await reader.read('users', parts[2]);
    assert.notEqual(third.batch.objects.texts.buffer, memory);
    assert.deepEqual(asStaged(third.batch), expected[2]);
    assert.deepEqual(asStaged(second.batch), expected[1], 'a batch not released is left alone');
    second.release();
    third.release();

    // A part changed since it was staged is refused, read into a buffer used before or not.
    const dataset = convertedDatasetName('users');
    const bytes = await run.readPart(dataset, parts[0].index);
    const changed = Buffer.from(bytes);
    const at = changed.indexOf('"user_id":"') + '"user_id":"'.length;
    changed[at] = changed[at] === 0x41 ? 0x42 : 0x41;
    await run.writePart(dataset, parts[0].index, changed, parts[0].records);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      await assert.rejects(
        reader.read('users', parts[0]),
        (error: unknown) => error instanceof StagedInputMissingError && /part 0 is not as written/.test(error.message),
      );
    }
    const after = await reader.read('users', parts[1]);
    assert.deepEqual(asStaged(after.batch), expected[1], 'the reader goes on after a refused part');
    after.release();
  });

  it('a failed users fetch: no user data, the rest delivered, the users types partial', async () => {
    const run = await newRun();
    await stageTenant(run, tenant, context);
    // Whatever the failed fetch left behind is not read.
    const summary = await buildGraph(run, allComplete({ users: 'Duo answered 500' }), context);
    const graph = await readGraph(run);
    assert.equal(summary.recordsRead.users, 0);
    assert.equal(summary.entities[ENTITY_KINDS.user._type], 0);
    assert.equal(graph.entities.filter((e) => e._type === ENTITY_KINDS.user._type).length, 0);
    assert.equal(summary.entities[ENTITY_KINDS.phone._type], tenant.phones.length);
    assert.equal(summary.relationships[RELATIONSHIP_KINDS.accountHasGroup._type], tenant.groups.length);
    assert.deepEqual(summary.partialTypes.map((p) => p.type).sort(), [
      'duo_account_has_user',
      'duo_admin_allows_user',
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
      'mfa_device',
    ]);
  });

  it('a failed account fetch: no account edges, counted as skipped, account types partial', async () => {
    const run = await newRun();
    await stageTenant(run, tenant, context);
    const summary = await buildGraph(run, allComplete({ account: 'add "Grant settings"' }), context);
    assert.equal(summary.entities[ENTITY_KINDS.account._type], 0);
    assert.equal(summary.relationships[RELATIONSHIP_KINDS.accountHasUser._type], 0);
    const skippedUsers = summary.skippedRelationships.find((s) => s.type === RELATIONSHIP_KINDS.accountHasUser._type);
    assert.equal(skippedUsers?.count, tenant.users.length);
    assert.match(skippedUsers?.reason ?? '', /no duo_account/);
    assert.ok(summary.partialTypes.some((p) => p.type === 'duo_account_has_integration'));
    assert.equal(summary.relationships[RELATIONSHIP_KINDS.groupHasUser._type] > 0, true, 'other edges are unaffected');
  });

  it('repeated records (pages overlapping) give one entity and one set of edges', async () => {
    const run = await newRun();
    await stageTenant(
      run,
      {
        ...tenant,
        users: [...tenant.users, ...tenant.users.slice(0, 10)],
        phones: [...tenant.phones, tenant.phones[0]],
      },
      context,
    );
    const summary = await buildGraph(run, allComplete(), context);
    const graph = await readGraph(run);
    const keys = [...graph.entities, ...graph.relationships, ...graph.mapped].map((o) => o._key);
    assert.equal(new Set(keys).size, keys.length);
    assert.equal(summary.entities[ENTITY_KINDS.user._type], tenant.users.length);
    assert.equal(summary.duplicatesSkipped[ENTITY_KINDS.user._type], 10);
    assert.equal(summary.duplicatesSkipped[ENTITY_KINDS.phone._type], 1);
    assert.equal(summary.relationships[RELATIONSHIP_KINDS.accountHasUser._type], tenant.users.length);
  });

  it('drops an entity that cannot be valid, counts it with its key and error, and skips its edges', async () => {
    const run = await newRun();
    const victim = tenant.phones.find((p) => (p.users?.length ?? 0) === 1)!;
    const ownerId = victim.users![0].user_id;
    // A key shorter than the data model's 10 characters.
    const badPhone: DuoPhone = { ...victim, phone_id: 'DPSHORT' };
    const users = tenant.users.map((u) =>
      u.user_id === ownerId
        ? {
            ...u,
            phones: (u.phones ?? []).map((p) => (p.phone_id === victim.phone_id ? { ...p, phone_id: 'DPSHORT' } : p)),
          }
        : u,
    );
    const noId = { ...tenant.groups[0], group_id: undefined };
    await stageTenant(
      run,
      {
        ...tenant,
        users,
        phones: tenant.phones.map((p) => (p === victim ? badPhone : p)),
        groups: [...tenant.groups, noId as never],
      },
      context,
    );
    const summary = await buildGraph(run, allComplete(), context);
    assert.equal(summary.dropped.count, 2);
    assert.deepEqual(summary.dropped.examples.map((d) => [d.type, d.key]).sort(), [
      ['duo_group', `groups record #${tenant.groups.length + 1}`],
      ['duo_phone', 'DPSHORT'],
    ]);
    assert.match(summary.dropped.examples.find((d) => d.key === 'DPSHORT')!.error, /_key/);
    const skipped = summary.skippedRelationships.find((s) => s.type === RELATIONSHIP_KINDS.userUsesPhone._type);
    assert.equal(skipped?.count, 1);
    assert.deepEqual(summary.partialTypes.map((p) => p.type).sort(), [
      'duo_account_has_group',
      'duo_admin_unit_has_group',
      'duo_group',
      'duo_group_has_user',
      'duo_integration_allows_group',
      'duo_phone',
      'duo_phone_has_trust_monitor_event',
      'duo_policy_enforces_group',
      'duo_user_uses_phone',
    ]);
    const graph = await readGraph(run);
    assert.ok(!graph.entities.some((e) => e._key === 'DPSHORT'));
    assert.ok(!graph.relationships.some((r) => r._toEntityKey === 'DPSHORT'));
  });

  it('keeps an entity whose value the schema rejects: the value is left out, stays in _rawData, and is counted', async () => {
    const run = await newRun();
    const admins = tenant.admins.map((a, i) => (i === 0 ? { ...a, email: 'admin at example dot com' } : a));
    // Beyond the latest time the Device schema accepts for lastSeenOn.
    const phones = tenant.phones.map((p, i) => (i === 0 ? { ...p, last_seen: '+010000-01-01T00:00:00' } : p));
    await stageTenant(run, { ...tenant, admins, phones }, context);
    const summary = await buildGraph(run, allComplete(), context);
    const graph = await readGraph(run);
    const admin = graph.entities.find((e) => e._key === ENTITY_KEYS.admin(tenant.admins[0].admin_id))!;
    assert.equal(admin.email, null);
    assert.equal((admin._rawData![0].rawData as { email: string }).email, 'admin at example dot com');
    const phone = graph.entities.find((e) => e._key === ENTITY_KEYS.phone(tenant.phones[0].phone_id))!;
    assert.equal(phone.lastSeenOn, null);
    assert.equal((phone._rawData![0].rawData as { last_seen: string }).last_seen, '+010000-01-01T00:00:00');
    assert.deepEqual(summary.valuesLeftOut, { 'duo_phone.lastSeenOn': 1 });
    assert.equal(summary.dropped.count, 0);
    assert.deepEqual(summary.partialTypes, []);
  });
});

describe('buildGraph staged output', function () {
  this.timeout(60_000);

  after(async () => {
    for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
  });

  it('indexes every staged object by its key, content hash and ends, line for line', async () => {
    const tenant = generateTenant({ users: 120, seed: 29 });
    const context: GraphInstanceContext = { siteId: tenant.siteId, apiHostname: tenant.apiHostname };
    const run = await newRun();
    await stageTenant(run, tenant, context);
    await buildGraph(run, allComplete(), context);
    for (const { dataset, indexDataset, kind } of GRAPH_DATASETS) {
      const objects: string[] = [];
      for await (const batch of readDatasetTexts(run, dataset)) objects.push(...batch);
      const entries = await readStagedObjects<GraphIndexEntry>(run, indexDataset);
      assert.equal(entries.length, objects.length, indexDataset);
      objects.forEach((text, index) => {
        const graphObject = JSON.parse(text) as Entity & DirectRelationship;
        assert.equal(text, graphObjectJson(graphObject), 'staged as its canonical text');
        const expectedEntry: GraphIndexEntry =
          kind === 'relationships' && !('_mapping' in graphObject)
            ? [graphObject._key, graphObjectHash(text), graphObject._fromEntityKey, graphObject._toEntityKey]
            : [graphObject._key, graphObjectHash(text)];
        assert.deepEqual(entries[index], expectedEntry);
      });
    }
  });
});
