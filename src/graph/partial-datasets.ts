/**
 * The partial-dataset rule (DESIGN §1): JupiterOne keeps the existing data of every type listed as
 * partial instead of deleting what a run did not deliver. A type is partial when
 *   - it is an entity type made from a resource whose fetch failed for good (or did not run: a
 *     resource switched off in the instance's configuration is no failure, its types are complete
 *     and empty — docs/completeness.md says why),
 *   - objects of it were dropped as invalid,
 *   - or it is a relationship or mapped-relationship type touching such an entity type (its edges
 *     to or from the missing entities could not be built either).
 * Everything is derived from the data model declaration and the resource table.
 */
import { APPLY_ORDER, RESOURCE_NAMES, RESOURCE_TABLE, type ResourceName } from '../resources/table';
import {
  ENTITY_KIND_LIST,
  ENTITY_KINDS,
  MAPPED_RELATIONSHIP_KIND_LIST,
  RELATIONSHIP_KIND_LIST,
  type EntityKindId,
} from './data-model';

export interface PartialType {
  type: string;
  reason: string;
}

/**
 * The resources an entity kind's entities are made from (as their own records, or carried inside
 * others), in the order the build applies them: a failure of any makes the kind partial.
 */
export function sourcesOf(kind: EntityKindId): ResourceName[] {
  return APPLY_ORDER.filter(
    (resource) =>
      RESOURCE_TABLE[resource].entity === kind ||
      (RESOURCE_TABLE[resource].embedded ?? []).some((embedded) => embedded.entity === kind),
  );
}

/** A fetch outcome as the workflow tracks it; anything but `complete` or `off` counts as failed. */
export interface FetchOutcomeLike {
  status: string;
  reason?: string;
  errorType?: string;
}

function failureReason(resource: ResourceName, outcome: FetchOutcomeLike | undefined): string {
  if (!outcome) return `the ${resource} fetch did not run`;
  if (outcome.status === 'failed') return `the ${resource} fetch failed${outcome.reason ? `: ${outcome.reason}` : ''}`;
  return `the ${resource} fetch did not complete (${outcome.status})`;
}

/**
 * Partial types for a run: `outcomes` per resource, `droppedByType` the number of objects of each
 * `_type` dropped as invalid. Declaration order; each type once, with the first reason found.
 */
export function computePartialTypes(
  outcomes: Readonly<Partial<Record<ResourceName, FetchOutcomeLike>>>,
  droppedByType: Readonly<Record<string, number>> = {},
): PartialType[] {
  const failed = new Map<ResourceName, string>();
  for (const resource of RESOURCE_NAMES) {
    const outcome = outcomes[resource];
    if (outcome?.status !== 'complete' && outcome?.status !== 'off')
      failed.set(resource, failureReason(resource, outcome));
  }

  const partial = new Map<string, string>();
  const dropReason = (type: string): string | undefined => {
    const count = droppedByType[type] ?? 0;
    return count > 0 ? `${count} object${count === 1 ? '' : 's'} dropped as invalid` : undefined;
  };

  for (const kind of ENTITY_KIND_LIST) {
    const failedSource = sourcesOf(kind.id).find((resource) => failed.has(resource));
    const reason = failedSource ? failed.get(failedSource) : dropReason(kind._type);
    if (reason) partial.set(kind._type, reason);
  }

  const touching = (...types: string[]): string | undefined => {
    const incomplete = types.find((type) => partial.has(type));
    return incomplete ? `touches ${incomplete}, which is partial (${partial.get(incomplete)})` : undefined;
  };
  const result: PartialType[] = [...partial].map(([type, reason]) => ({ type, reason }));
  for (const kind of RELATIONSHIP_KIND_LIST) {
    const reason = touching(ENTITY_KINDS[kind.source]._type, ENTITY_KINDS[kind.target]._type) ?? dropReason(kind._type);
    if (reason) result.push({ type: kind._type, reason });
  }
  for (const kind of MAPPED_RELATIONSHIP_KIND_LIST) {
    const reason = touching(ENTITY_KINDS[kind.source]._type) ?? dropReason(kind._type);
    if (reason) result.push({ type: kind._type, reason });
  }
  return result;
}
