/**
 * The graph a tenant should produce, computed without Temporal, HTTP or the simulators: the tenant's
 * records are staged as the fetch stage stages them and the graph builder runs on them directly.
 * End-to-end tests compare what was delivered with this.
 */
import { graphDatasets } from '../../src/graph/data-model';
import { RESOURCE_NAMES } from '../../src/resources/table';
import { buildGraph } from '../../src/graph/build-graph';
import { graphInstanceContext } from '../../src/graph/converters';
import type { Entity, Relationship } from '../../src/graph/types';
import type { InstanceConfig } from '../../src/config/instances';
import type { DuoTenant } from '../../src/simulators/duo/tenant-generator';
import { LocalDirectoryStagingStore } from '../../src/staging/local-directory-store';
import { readStagedObjects, stageRecords } from './staging';
import { tenantRecords } from './tenant-records';
import { temporaryDirectory } from './temporal';

export interface ExpectedGraph {
  entities: Map<string, Entity>;
  relationships: Map<string, Relationship>;
}

export async function expectedGraph(tenant: DuoTenant, instance: InstanceConfig): Promise<ExpectedGraph> {
  const store = await LocalDirectoryStagingStore.open(temporaryDirectory('duo-j1-expected-'));
  const run = store.openRun('expected');
  const context = graphInstanceContext(instance);
  for (const resource of RESOURCE_NAMES) await stageRecords(run, resource, tenantRecords(tenant, resource), context);
  const outcomes = Object.fromEntries(RESOURCE_NAMES.map((r) => [r, { status: 'complete' }]));
  await buildGraph(run, outcomes, context);
  const entities = new Map<string, Entity>();
  const relationships = new Map<string, Relationship>();
  for (const { dataset, kind } of graphDatasets()) {
    if (!(await run.readManifest(dataset))) continue;
    for (const object of await readStagedObjects<Entity & Relationship>(run, dataset)) {
      (kind === 'entities' ? entities : relationships).set(object._key, object);
    }
  }
  await run.remove();
  return { entities, relationships };
}
