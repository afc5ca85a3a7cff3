/**
 * What duo-j1 keeps of Duo's administrator and activity logs: aggregates, never events. Pure
 * functions: an empty state, the fold of each log's events into it.
 *
 * The administrator log names people and objects by name (the administrator's full name, an
 * integration's name, a user's username); the activity log by key. Both are kept as they come,
 * as references `name:<…>` or `key:<…>`, and the build resolves them against the entities of the
 * run (src/graph/log-facts.ts): a name two entities share resolves to neither.
 *
 * Bounded by the tenant: one record per administrator, one creator per integration, one
 * "bypass enabled by" per user, one last view per administrator × integration whose secret key
 * they viewed; day buckets of at most `WINDOW_DAYS` days.
 */
import type { DuoActivityLogEvent, DuoAdministratorLogEvent } from '../duo/types';
import { addToDay, dayOf, type DayCounts } from './aggregates';

/** `name:<name>` (administrator log) or `key:<key>` (activity log). */
export type Reference = string;

export interface AdministratorAggregate {
  lastAt: number;
  lastAction: string;
  /** Actions by day (the administrator log's; see `foldActivityEvents`). */
  actions: DayCounts;
}

/** Who did something to an object, and when (the last time). */
export interface ActedBy {
  admin: Reference;
  at: number;
}

export interface AdministrationAggregates {
  admins: Record<Reference, AdministratorAggregate>;
  /** Integration → who created it. */
  createdIntegrations: Record<Reference, ActedBy>;
  /** `<admin reference>\n<integration reference>` → when the administrator last viewed its secret key. */
  secretKeyViews: Record<string, number>;
  /** User → who last switched the user to bypass (no second factor). */
  bypassEnabled: Record<Reference, ActedBy>;
  /** Events folded in, per log (a check on exactly-once, not a graph fact). */
  administratorEvents: number;
  activityEvents: number;
  newestDay: number;
}

export function emptyAdministrationAggregates(): AdministrationAggregates {
  return {
    admins: {},
    createdIntegrations: {},
    secretKeyViews: {},
    bypassEnabled: {},
    administratorEvents: 0,
    activityEvents: 0,
    newestDay: 0,
  };
}

export const byName = (name: string): Reference => `name:${name}`;
export const byKey = (key: string): Reference => `key:${key}`;

/** The actions the graph shows, as both logs name them. */
const INTEGRATION_CREATED = 'integration_create';
const SECRET_KEY_VIEWED = new Set(['integration_skey_view', 'integration_skey_bulk_view']);
const USER_UPDATED = 'user_update';

/** Folds administrator log events, oldest first, into `state` (changed in place and returned). */
export function foldAdministratorEvents(
  state: AdministrationAggregates,
  events: readonly DuoAdministratorLogEvent[],
): AdministrationAggregates {
  for (const event of events) {
    state.administratorEvents += 1;
    const at = event.timestamp * 1000;
    const action = event.action ?? 'unknown';
    const admin = event.username ? byName(event.username) : undefined;
    if (!admin) continue;
    noteAction(state, admin, action, at, true);
    const object = event.object ? byName(event.object) : undefined;
    if (object) noteObject(state, admin, action, object, at, () => descriptionOf(event.description));
  }
  return state;
}

/**
 * Folds activity log events, oldest first. Administrators' actions there update their last action
 * but not their counts: Duo is moving the administrator log into the activity log, and an action
 * in both must not count twice (the counts come from the administrator log).
 */
export function foldActivityEvents(
  state: AdministrationAggregates,
  events: readonly DuoActivityLogEvent[],
): AdministrationAggregates {
  for (const event of events) {
    state.activityEvents += 1;
    const at = Date.parse(event.ts);
    // Unconfirmed: the actor of an administrator's action has `type` "admin" and the admin id as
    // `key`; the target of an integration's, its integration key.
    if (!Number.isFinite(at) || event.actor?.type !== 'admin' || !event.actor.key) continue;
    const admin = byKey(event.actor.key);
    const action = event.action ?? 'unknown';
    noteAction(state, admin, action, at, false);
    const target = event.target?.key ? byKey(event.target.key) : undefined;
    if (target) noteObject(state, admin, action, target, at, () => descriptionOf(event.target?.details));
  }
  return state;
}

function noteAction(state: AdministrationAggregates, admin: Reference, action: string, at: number, count: boolean) {
  const day = dayOf(at);
  if (day > state.newestDay) state.newestDay = day;
  const record = (state.admins[admin] ??= { lastAt: 0, lastAction: action, actions: [] });
  if (at >= record.lastAt) {
    record.lastAt = at;
    record.lastAction = action;
  }
  if (count) addToDay(record.actions, day, state.newestDay);
}

function noteObject(
  state: AdministrationAggregates,
  admin: Reference,
  action: string,
  object: Reference,
  at: number,
  description: () => Record<string, unknown> | undefined,
) {
  if (action === INTEGRATION_CREATED) {
    // An integration is created once; a later record of the same name is a new one of that name.
    const created = state.createdIntegrations[object];
    if (!created || at >= created.at) state.createdIntegrations[object] = { admin, at };
  } else if (SECRET_KEY_VIEWED.has(action)) {
    const view = `${admin}\n${object}`;
    if (at >= (state.secretKeyViews[view] ?? 0)) state.secretKeyViews[view] = at;
  } else if (action === USER_UPDATED && isBypass(description()?.status)) {
    const enabled = state.bypassEnabled[object];
    if (!enabled || at >= enabled.at) state.bypassEnabled[object] = { admin, at };
  }
}

/** Duo's status word for "no second factor", as the administrator log writes it ("Bypass"). */
function isBypass(status: unknown): boolean {
  return typeof status === 'string' && status.toLowerCase() === 'bypass';
}

/** The JSON object in a log event's description, if it is one. */
function descriptionOf(text: string | null | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
