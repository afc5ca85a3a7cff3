/**
 * The graph a tenant should produce, computed without Temporal, HTTP or the simulators: the tenant's
 * records are staged as the fetch stage stages them and the graph builder runs on them directly.
 * End-to-end tests compare what was delivered with this.
 */
import { RESOURCE_NAMES, graphDatasets } from '../../src/graph/data-model';
import { buildGraph } from '../../src/graph/build-graph';
import { graphInstanceContext } from '../../src/graph/converters';
import type { Entity, Relationship } from '../../src/graph/types';
import type { InstanceConfig } from '../../src/config/instances';
import { DUO_LIST_ENDPOINTS } from '../../src/duo/endpoints';
import { withoutSecretFields } from '../../src/duo/client';
import type { DuoTenant } from '../../src/simulators/duo/tenant-generator';
import { LocalDirectoryStagingStore } from '../../src/staging/local-directory-store';
import { temporaryDirectory } from './temporal';

export interface ExpectedGraph {
  entities: Map<string, Entity>;
  relationships: Map<string, Relationship>;
}

export async function expectedGraph(tenant: DuoTenant, instance: InstanceConfig): Promise<ExpectedGraph> {
  const store = await LocalDirectoryStagingStore.open(temporaryDirectory('duo-j1-expected-'));
  const run = store.openRun('expected');
  const lists: Record<string, unknown[]> = {
    admins: tenant.admins,
    groups: tenant.groups,
    users: tenant.users,
    phones: tenant.phones,
    tokens: tenant.tokens,
    webauthn: tenant.webauthncredentials,
    integrations: tenant.integrations.map((i) =>
      withoutSecretFields(i as unknown as Record<string, unknown>, DUO_LIST_ENDPOINTS.integrations.secretFields),
    ),
  };
  await run.writePart('raw/account', 0, [{ settings: tenant.settings, infoSummary: tenant.infoSummary }]);
  await run.commitManifest('raw/account');
  for (const [resource, records] of Object.entries(lists)) {
    await run.writePart(`raw/${resource}`, 0, records);
    await run.commitManifest(`raw/${resource}`);
  }
  const outcomes = Object.fromEntries(RESOURCE_NAMES.map((r) => [r, { status: 'complete' }]));
  await buildGraph(run, outcomes, graphInstanceContext(instance));
  const entities = new Map<string, Entity>();
  const relationships = new Map<string, Relationship>();
  for (const { dataset, kind } of graphDatasets()) {
    if (!(await run.readManifest(dataset))) continue;
    for await (const object of run.read<Entity & Relationship>(dataset)) {
      (kind === 'entities' ? entities : relationships).set(object._key, object);
    }
  }
  await run.remove();
  return { entities, relationships };
}
