/**
 * What duo-j1 keeps of Duo's authentication log: aggregates, never events. Pure functions: an
 * empty state, the fold of events into it, and the 30-day figures the graph shows.
 *
 * Bounded by the tenant, not by the log: per user, per user × integration they used and per
 * integration one small record each, with at most 30 day buckets of counters (older buckets are
 * pruned as days pass). Times are epoch milliseconds; days are UTC days since the epoch.
 *
 * Folding the same events in the same order always gives the same state, so a state read back from
 * its file after a worker was lost, and a state computed directly from a simulator's stream, can be
 * compared exactly (docs/logs.md).
 */
import type { DuoAuthenticationLogEvent } from '../duo/types';

/** Days of history the graph's counts cover. */
export const WINDOW_DAYS = 30;
const DAY_MS = 24 * 3600_000;

/** Factors that prove only the possession of a phone number or a shared secret. */
export const WEAK_FACTORS: ReadonlySet<string> = new Set([
  'sms_passcode',
  'sms_refresh',
  'phone_call',
  'passcode',
  'bypass_code',
  'duo_mobile_passcode',
  'yubikey_code',
  'hardware_token',
]);

/** Day-bucketed counters: `[day, count, day, count, …]`, oldest day first, at most `WINDOW_DAYS` days. */
export type DayCounts = number[];

/** One user's use of one integration. */
export interface UsageAggregate {
  lastAt: number;
  lastFactor: string;
  lastResult: string;
  successes: DayCounts;
  failures: DayCounts;
}

export interface UserAggregate {
  lastAt: number;
  lastFactor: string;
  /** Last success with a factor that is not weak; 0 when never. */
  lastStrongAt: number;
  fraud: DayCounts;
  denied: DayCounts;
  /** Phones (by id) the user authenticated with, and when last (within the window). */
  phones: Record<string, number>;
  /**
   * Endpoints (by `epkey`) the user authenticated from, and when last (within the window). Absent
   * in files written before endpoints were read from the log; the next fold adds it.
   */
  endpoints?: Record<string, number>;
}

export interface IntegrationAggregate {
  lastAt: number;
}

export interface AuthenticationAggregates {
  /** By user id, then integration key. */
  usage: Record<string, Record<string, UsageAggregate>>;
  users: Record<string, UserAggregate>;
  integrations: Record<string, IntegrationAggregate>;
  /** Events folded in, ever (a check on exactly-once, not a graph fact). */
  events: number;
  /** The newest day folded: buckets older than `WINDOW_DAYS` before it are dropped. */
  newestDay: number;
}

export function emptyAggregates(): AuthenticationAggregates {
  return { usage: {}, users: {}, integrations: {}, events: 0, newestDay: 0 };
}

export function dayOf(time: number): number {
  return Math.floor(time / DAY_MS);
}

/** Epoch ms of an event: Duo's `timestamp` is in seconds; `isotimestamp` keeps the milliseconds. */
export function eventTime(event: DuoAuthenticationLogEvent): number {
  const iso = event.isotimestamp ? Date.parse(event.isotimestamp) : NaN;
  return Number.isFinite(iso) ? iso : event.timestamp * 1000;
}

/** Folds events, oldest first, into `state` (changed in place and returned). */
export function foldAuthenticationEvents(
  state: AuthenticationAggregates,
  events: readonly DuoAuthenticationLogEvent[],
): AuthenticationAggregates {
  for (const event of events) foldOne(state, event);
  return state;
}

function foldOne(state: AuthenticationAggregates, event: DuoAuthenticationLogEvent): void {
  state.events += 1;
  const at = eventTime(event);
  const day = dayOf(at);
  if (day > state.newestDay) state.newestDay = day;
  const factor = event.factor ?? 'unknown';
  const result = event.result ?? 'unknown';
  const succeeded = result === 'success';
  const integrationKey = event.application?.key ?? undefined;
  const userId = event.user?.key ?? undefined;

  if (integrationKey) {
    const integration = (state.integrations[integrationKey] ??= { lastAt: 0 });
    if (at >= integration.lastAt) integration.lastAt = at;
  }
  if (!userId) return;
  const user = (state.users[userId] ??= {
    lastAt: 0,
    lastFactor: factor,
    lastStrongAt: 0,
    fraud: [],
    denied: [],
    phones: {},
    endpoints: {},
  });
  if (at >= user.lastAt) {
    user.lastAt = at;
    user.lastFactor = factor;
  }
  if (succeeded && !WEAK_FACTORS.has(factor) && at > user.lastStrongAt) user.lastStrongAt = at;
  if (result === 'fraud') addToDay(user.fraud, day, state.newestDay);
  if (result === 'denied') addToDay(user.denied, day, state.newestDay);
  // Only a success says the user used the device: a denied or fraudulent attempt may come from
  // someone else's machine, and a push the user refused says nothing the inventory does not.
  if (succeeded) {
    noteDeviceUse(user.phones, event.auth_device?.key ?? undefined, at, state.newestDay);
    noteDeviceUse((user.endpoints ??= {}), event.access_device?.epkey ?? undefined, at, state.newestDay);
  }

  if (!integrationKey) return;
  const usageOfUser = (state.usage[userId] ??= {});
  const usage = (usageOfUser[integrationKey] ??= {
    lastAt: 0,
    lastFactor: factor,
    lastResult: result,
    successes: [],
    failures: [],
  });
  if (at >= usage.lastAt) {
    usage.lastAt = at;
    usage.lastFactor = factor;
    usage.lastResult = result;
  }
  addToDay(succeeded ? usage.successes : usage.failures, day, state.newestDay);
}

/**
 * Notes that a device was used at `at`. A device seen for the first time also drops the user's
 * devices unused for `WINDOW_DAYS` days: a user's list holds the devices of the window, however
 * many phones and machines they went through over the years.
 */
function noteDeviceUse(devices: Record<string, number>, id: string | undefined, at: number, newestDay: number): void {
  if (!id) return;
  const last = devices[id];
  if (last !== undefined) {
    if (at > last) devices[id] = at;
    return;
  }
  const oldest = (newestDay - WINDOW_DAYS + 1) * DAY_MS;
  for (const [other, time] of Object.entries(devices)) if (time < oldest) delete devices[other];
  if (at >= oldest) devices[id] = at;
}

/** Adds one to `day`'s bucket and drops buckets that left the window. */
export function addToDay(counts: DayCounts, day: number, newestDay: number): void {
  const oldest = newestDay - WINDOW_DAYS + 1;
  if (day < oldest) return;
  // Events arrive oldest first: the day is nearly always the last bucket.
  const last = counts.length - 2;
  if (last >= 0 && counts[last] === day) counts[last + 1]! += 1;
  else {
    let at = counts.length;
    while (at >= 2 && counts[at - 2]! > day) at -= 2;
    counts.splice(at, 0, day, 1);
  }
  while (counts.length > 0 && counts[0]! < oldest) counts.splice(0, 2);
}

/** The sum of the buckets within `WINDOW_DAYS` days up to and including `today`. */
export function countInWindow(counts: DayCounts, today: number): number {
  let sum = 0;
  for (let i = 0; i < counts.length; i += 2) {
    if (counts[i]! > today - WINDOW_DAYS && counts[i]! <= today) sum += counts[i + 1]!;
  }
  return sum;
}

/** Whether `time` falls in the `WINDOW_DAYS` days up to `now`. */
export function inWindow(time: number, now: number): boolean {
  return time > now - WINDOW_DAYS * DAY_MS && time <= now;
}
