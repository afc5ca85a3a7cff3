/**
 * What the fetch stage reads of a resource when the Duo simulator serves a tenant, derived from the
 * resource table alone: a list endpoint's records, secret fields removed, or the one record made of
 * the object endpoints' answers, with what the resource's joins add to each record. The tests'
 * oracle of a run's input.
 */
import { indexJoin, withJoinedFields } from '../../src/resources/joins';
import { RESOURCE_TABLE, withoutSecretFields, type ResourceName } from '../../src/resources/table';
import type { DuoTenant } from '../../src/simulators/duo/tenant-generator';

export function tenantRecords(tenant: DuoTenant, resource: ResourceName): object[] {
  const endpoints = RESOURCE_TABLE[resource].endpoints;
  const [first] = endpoints;
  if (first?.paged) {
    const joins = (RESOURCE_TABLE[resource].joins ?? []).map((join) => indexJoin(join, tenant[join.endpoint.name]));
    return (tenant[first.name] as object[]).map((record) =>
      withJoinedFields(withoutSecretFields(record, first.secretFields), joins),
    );
  }
  return [Object.fromEntries(endpoints.map((endpoint) => [endpoint.name, tenant[endpoint.name]]))];
}
