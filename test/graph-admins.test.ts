import assert from 'node:assert/strict';
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { IntegrationSchema } from '@jupiterone/data-model';
import { DuoClient } from '../src/duo/client';
import { DuoPermissionError } from '../src/duo/errors';
import { buildGraph, type BuildGraphSummary } from '../src/graph/build-graph';
import type { GraphInstanceContext } from '../src/graph/converters';
import {
  ENTITY_KEYS,
  GRAPH_DATASETS,
  MAPPED_RELATIONSHIP_KINDS,
  RELATIONSHIP_KINDS,
  type RelationshipKindId,
} from '../src/graph/data-model';
import { isMappedRelationship, type Entity, type MappedRelationship, type Relationship } from '../src/graph/types';
import { RESOURCE_NAMES, type ResourceName } from '../src/resources/table';
import { generateTenant, type DuoTenant } from '../src/simulators/duo/tenant-generator';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { LocalDirectoryStagingStore } from '../src/staging/local-directory-store';
import { WORKFLOW_TYPE, type DuoIngestionResult, type LocalDeliveryReport } from '../src/workflows/contract';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import { readStagedObjects, stageRecords } from './harness/staging';
import { startTestWorkers, temporaryDirectory, testClient, testConfig, uniqueTaskQueue } from './harness/temporal';
import { tenantRecords } from './harness/tenant-records';

interface BuiltGraph {
  summary: BuildGraphSummary;
  entities: Map<string, Entity>;
  relationships: Relationship[];
}

const roots: string[] = [];

/** Stages the tenant as the fetches do (small pages) and builds its graph, with `failed` fetches failed. */
async function built(tenant: DuoTenant, failed: readonly ResourceName[] = []): Promise<BuiltGraph> {
  const root = temporaryDirectory('duo-j1-admins-');
  roots.push(root);
  const run = (await LocalDirectoryStagingStore.open(root)).openRun('admins');
  const context: GraphInstanceContext = { siteId: tenant.siteId, apiHostname: tenant.apiHostname };
  for (const resource of RESOURCE_NAMES) {
    if (!failed.includes(resource)) await stageRecords(run, resource, tenantRecords(tenant, resource), context, 53);
  }
  const outcomes = Object.fromEntries(
    RESOURCE_NAMES.map((r) => [r, { status: failed.includes(r) ? 'failed' : 'complete' }]),
  );
  const summary = await buildGraph(run, outcomes, context, { recordsPerPart: 37 });
  const entities = new Map<string, Entity>();
  const relationships: Relationship[] = [];
  for (const { dataset, kind } of GRAPH_DATASETS) {
    for (const object of await readStagedObjects<Entity & Relationship>(run, dataset)) {
      if (kind === 'entities') entities.set(object._key, object);
      else relationships.push(object);
    }
  }
  return { summary, entities, relationships };
}

function edgesOf(graph: BuiltGraph, kind: RelationshipKindId): Relationship[] {
  return graph.relationships.filter((r) => r._type === RELATIONSHIP_KINDS[kind]._type);
}

/** `<from> → <to>` of each edge, sorted. */
function ends(edges: readonly Relationship[]): string[] {
  return edges.map((edge) => `${edge._fromEntityKey} → ${edge._toEntityKey}`).sort();
}

describe("administrators' MFA posture on a generated tenant", function () {
  this.timeout(60_000);
  const tenant = generateTenant({ users: 1500, seed: 29, admins: 24 });
  const adminKey = (adminId: string) => ENTITY_KEYS.admin(adminId);
  let graph: BuiltGraph;

  before(async () => {
    graph = await built(tenant);
  });

  after(async () => {
    for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
  });

  it('has the awkward cases: a token shared by administrators, admins without email, admins who are users, their WebAuthn keys', () => {
    const sharedByAdmins = tenant.tokens.filter((token) => (token.admins?.length ?? 0) > 1);
    assert.ok(sharedByAdmins.length > 0);
    assert.ok(tenant.admins.some((admin) => admin.email === null));
    const userEmails = new Set(tenant.users.map((user) => user.email?.toLowerCase()));
    const alsoUsers = tenant.admins.filter((admin) => admin.email && userEmails.has(admin.email.toLowerCase()));
    assert.ok(alsoUsers.length > 1);
    assert.ok(
      alsoUsers.some((admin) => !userEmails.has(admin.email!)),
      'in another capitalisation',
    );
    assert.ok(tenant.webauthncredentials.filter((credential) => credential.admin).length > 1);
  });

  it('duo_admin ASSIGNED mfa_device: each hardware token and WebAuthn key, a shared token one entity with one edge per holder', () => {
    const expected = [
      ...tenant.tokens.flatMap((token) =>
        (token.admins ?? []).map((admin) => `${adminKey(admin.admin_id)} → ${ENTITY_KEYS.mfaDevice(token.token_id)}`),
      ),
      ...tenant.webauthncredentials.flatMap((credential) =>
        credential.admin
          ? [`${adminKey(credential.admin.admin_id)} → ${ENTITY_KEYS.mfaDevice(credential.webauthnkey)}`]
          : [],
      ),
    ].sort();
    // Each hardware token is named twice (the token's `admins`, the administrator's `hardtoken`): one edge.
    assert.deepEqual(ends(edgesOf(graph, 'adminAssignedMfaDevice')), expected);
    const [shared] = tenant.tokens.filter((token) => (token.admins?.length ?? 0) > 1);
    const sharedKey = ENTITY_KEYS.mfaDevice(shared.token_id);
    assert.equal([...graph.entities.keys()].filter((key) => key === sharedKey).length, 1);
    assert.equal(
      edgesOf(graph, 'adminAssignedMfaDevice').filter((edge) => edge._toEntityKey === sharedKey).length,
      shared.admins!.length,
    );
    assert.deepEqual(graph.summary.skippedRelationships, []);
  });

  it('duo_admin IS duo_user exactly where the emails match, whatever their case; never for an admin without email', () => {
    const usersByEmail = new Map<string, string[]>();
    for (const user of tenant.users) {
      const email = user.email?.toLowerCase();
      if (email) usersByEmail.set(email, [...(usersByEmail.get(email) ?? []), ENTITY_KEYS.user(user.user_id)]);
    }
    const expected = tenant.admins
      .flatMap((admin) =>
        (admin.email ? (usersByEmail.get(admin.email.toLowerCase()) ?? []) : []).map(
          (user) => `${adminKey(admin.admin_id)} → ${user}`,
        ),
      )
      .sort();
    assert.ok(expected.length > 1);
    assert.deepEqual(ends(edgesOf(graph, 'adminIsUser')), expected);
  });

  it('maps administrators with an email to employees as users are, and no others', () => {
    const mappings = graph.relationships.filter(
      (r): r is MappedRelationship =>
        isMappedRelationship(r) && r._type === MAPPED_RELATIONSHIP_KINDS.adminIsEmployee._type,
    );
    assert.deepEqual(
      mappings.map((m) => m._mapping.sourceEntityKey).sort(),
      tenant.admins
        .filter((admin) => admin.email)
        .map((admin) => adminKey(admin.admin_id))
        .sort(),
    );
    for (const mapping of mappings) {
      const admin = tenant.admins.find((a) => adminKey(a.admin_id) === mapping._mapping.sourceEntityKey)!;
      assert.equal(mapping._mapping.targetEntity.email, admin.email!.toLowerCase());
      assert.ok(mapping._key.endsWith(`|is|REVERSE:_type=employee:email=${admin.email!.toLowerCase()}`));
    }
  });

  it('says on each administrator which factors it holds and whether one is phishing-resistant', () => {
    const holders = new Map<string, Set<string>>();
    const hold = (adminId: string, factor: string) =>
      holders.set(adminKey(adminId), (holders.get(adminKey(adminId)) ?? new Set()).add(factor));
    for (const token of tenant.tokens) for (const admin of token.admins ?? []) hold(admin.admin_id, 'token');
    for (const credential of tenant.webauthncredentials) {
      if (credential.admin) hold(credential.admin.admin_id, 'webauthn');
    }
    const seen = new Set<string>();
    for (const admin of tenant.admins) {
      const entity = graph.entities.get(adminKey(admin.admin_id))!;
      const factors = [...(holders.get(entity._key) ?? [])].sort();
      assert.deepEqual(entity.mfaFactors, factors, entity._key);
      assert.equal(entity.hasPhishingResistantMfa, factors.includes('webauthn'));
      assert.equal(entity.hasHardwareToken, factors.includes('token'));
      assert.equal(entity.hasWebauthnCredential, factors.includes('webauthn'));
      assert.equal(
        entity.mfaDeviceCount,
        edgesOf(graph, 'adminAssignedMfaDevice').filter((e) => e._fromEntityKey === entity._key).length,
      );
      seen.add(JSON.stringify(factors));
    }
    assert.ok(seen.has('[]') && seen.has('["token"]') && seen.has('["webauthn"]'), 'every case occurs');
    assert.equal(graph.summary.entities.duo_admin, tenant.admins.length);
  });

  it('the account says which methods administrators may sign in with', () => {
    const account = [...graph.entities.values()].find((entity) => entity._type === 'duo_account')!;
    assert.equal(account.adminWebauthnAllowed, tenant.allowedAdminAuthMethods.webauthn_enabled);
    assert.equal(account.adminSmsAllowed, tenant.allowedAdminAuthMethods.sms_enabled);
    assert.equal(account.adminVerifiedPushLength, tenant.allowedAdminAuthMethods.verified_push_length);
    assert.equal(account.adminPhishableMethodsAllowed, true, 'push is allowed');
  });

  it('every entity is valid against @jupiterone/data-model', () => {
    for (const entity of graph.entities.values()) {
      for (const cls of entity._class) {
        const validate = IntegrationSchema.getSchema(`#${cls}`)!;
        assert.ok(validate(entity), `${entity._key} as ${cls}: ${JSON.stringify(validate.errors)}`);
      }
    }
  });

  it('leaves the posture out when the WebAuthn fetch failed (unknown, not false), and the admin edges partial', async () => {
    const partial = await built(tenant, ['webauthn']);
    for (const admin of tenant.admins) {
      const entity = partial.entities.get(adminKey(admin.admin_id))!;
      assert.equal(entity.hasPhishingResistantMfa, undefined, entity._key);
      assert.equal(entity.mfaFactors, undefined, entity._key);
    }
    assert.ok(partial.summary.partialTypes.some((p) => p.type === RELATIONSHIP_KINDS.adminAssignedMfaDevice._type));
    // The tokens' edges are still made.
    assert.ok(edgesOf(partial, 'adminAssignedMfaDevice').length > 0);
  });

  it("counts an administrator's hardware token that is not among the fetched tokens as skipped, not written", async () => {
    const holder = tenant.admins.find((admin) => admin.hardtoken)!;
    const lost = holder.hardtoken!.token_id;
    const withoutToken: DuoTenant = { ...tenant, tokens: tenant.tokens.filter((token) => token.token_id !== lost) };
    const result = await built(withoutToken);
    assert.ok(
      !edgesOf(result, 'adminAssignedMfaDevice').some((edge) => edge._toEntityKey === ENTITY_KEYS.mfaDevice(lost)),
    );
    const skipped = result.summary.skippedRelationships.find(
      (s) => s.type === RELATIONSHIP_KINDS.adminAssignedMfaDevice._type,
    );
    assert.deepEqual(skipped, {
      type: RELATIONSHIP_KINDS.adminAssignedMfaDevice._type,
      reason: 'the device is not among the fetched tokens',
      count: tenant.admins.filter((admin) => admin.hardtoken?.token_id === lost).length,
    });
  });

  it('without "Grant administrators", a run delivers the account complete, without the administrators\' methods', async () => {
    const duo = await startDuoSimulator({ users: 50, seed: 31 });
    stopAtEnd(() => duo.close());
    const limited = duo.addIntegrationKey(['Grant read resource', 'Grant settings', 'Grant read information']);
    // The simulator answers the endpoint with Duo's shape, to a key with the grant only.
    const granted = new DuoClient({ ...duo.clientOptions, requestsPerMinute: 60_000, logger: () => {} });
    assert.deepEqual(await granted.getObject('allowedAdminAuthMethods'), duo.tenant.allowedAdminAuthMethods);
    const refused = await new DuoClient({
      ...duo.clientOptions,
      ...limited,
      requestsPerMinute: 60_000,
      logger: () => {},
    })
      .getObject('allowedAdminAuthMethods')
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    assert.ok(refused instanceof DuoPermissionError && refused.grant === 'Grant administrators', String(refused));
    const instance = simulatorInstance({
      ...duo,
      integrationKey: limited.integrationKey,
      secretKey: limited.secretKey,
    });
    const config = testConfig([instance]);
    await startTestWorkers(config);
    const client = await testClient();
    const result = (await client.workflow.execute(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `admins-${uniqueTaskQueue()}`,
      args: [{ instanceId: instance.id }],
    })) as DuoIngestionResult;
    const partial = result.partialTypes.map((p) => p.type);
    assert.ok(partial.includes('duo_admin'), 'the administrators are partial');
    assert.ok(!partial.includes('duo_account'), 'the account is not');
    const folder = path.join(
      (result.delivery as LocalDeliveryReport).outputDir,
      '.j1-integration',
      'graph',
      'fetch-account',
      'entities',
    );
    const [file] = await readdir(folder);
    const { entities } = JSON.parse(await readFile(path.join(folder, file), 'utf8')) as { entities: Entity[] };
    const [account] = entities;
    assert.equal(account._type, 'duo_account');
    assert.equal(account.adminCount, duo.tenant.admins.length, 'the summary counts are there');
    assert.equal(account.adminPushAllowed, undefined);
    assert.equal(account.adminPhishableMethodsAllowed, undefined);
    assert.equal(account.name, duo.tenant.settings.name);
  });
});
