/**
 * What a resource's joins (src/resources/table.ts, `ResourceJoin`) add to its records: the answer of
 * an object endpoint, read once before the list, indexed by the field its items share with the
 * records, and each record given its item's field. Pure: the fetch reads the answers, the
 * simulator's tests and the tests' oracle of a run's input join the same way.
 */
import type { ResourceJoin } from './table';

/** A join with its answer indexed: the joined field's value per record id. */
export interface IndexedJoin {
  join: ResourceJoin;
  byId: ReadonlyMap<string, unknown>;
}

/** True when the answer says it was cut short (Duo sends the flag as a boolean or as its text). */
export function isTruncated(join: ResourceJoin, answer: object): boolean {
  if (join.truncatedFlag === undefined) return false;
  const flag = (answer as Record<string, unknown>)[join.truncatedFlag];
  return flag === true || (typeof flag === 'string' && flag.trim().toLowerCase() === 'true');
}

/**
 * Indexes a join's answer: each item of its `listField` by its `matchField`. Items without an id
 * are skipped; when two items share an id, the first is kept (the answer names each record once).
 */
export function indexJoin(join: ResourceJoin, answer: object): IndexedJoin {
  const items = (answer as Record<string, unknown>)[join.listField];
  const byId = new Map<string, unknown>();
  for (const item of Array.isArray(items) ? items : []) {
    if (!item || typeof item !== 'object') continue;
    const id = (item as Record<string, unknown>)[join.matchField];
    if (typeof id !== 'string' || id === '' || byId.has(id)) continue;
    byId.set(id, (item as Record<string, unknown>)[join.field]);
  }
  return { join, byId };
}

/** The record with each join's field set from its item; the record itself when no join names it. */
export function withJoinedFields<T extends object>(record: T, joins: readonly IndexedJoin[]): T {
  let joined: Record<string, unknown> | undefined;
  for (const { join, byId } of joins) {
    const id = (record as Record<string, unknown>)[join.matchField];
    if (typeof id !== 'string' || !byId.has(id)) continue;
    joined ??= { ...(record as Record<string, unknown>) };
    joined[join.field] = byId.get(id);
  }
  return (joined ?? record) as T;
}
