/**
 * What duo-j1 keeps of Trust Monitor's events: each event of the last `WINDOW_DAYS` days, as the
 * few fields the graph shows (they are findings, one entity each, not counts). Pure.
 *
 * Bounded: Trust Monitor surfaces a handful of events a day (it exists to raise few, high-signal
 * ones), and at most `MAX_FINDINGS` of the newest are kept whatever happens.
 */
import type { DuoTrustMonitorEvent } from '../duo/types';
import { WINDOW_DAYS } from './aggregates';

const DAY_MS = 24 * 3600_000;
/** A ceiling far above Trust Monitor's rate, so that the aggregates stay bounded even if it floods. */
export const MAX_FINDINGS = 10_000;

export interface TrustMonitorFinding {
  /** `auth`, `bypass_status_enabled`, `device_registration`. */
  type: string;
  surfacedAt: number;
  /** Duo's triage state as it says it (unconfirmed values: `new`, `processed`). */
  state: string;
  triagedAsInteresting: boolean;
  priority: boolean;
  explanations: string[];
  userId?: string;
  userName?: string;
  phoneId?: string;
  epkey?: string;
  /** `bypass_status_enabled`: the administrator who enabled it (an admin id). */
  adminId?: string;
}

export interface TrustMonitorAggregates {
  /** By the event's `sekey`. */
  findings: Record<string, TrustMonitorFinding>;
  events: number;
}

export function emptyTrustMonitorAggregates(): TrustMonitorAggregates {
  return { findings: {}, events: 0 };
}

/** Folds events, oldest first; an event Duo sends again (re-triaged) replaces the one kept. */
export function foldTrustMonitorEvents(
  state: TrustMonitorAggregates,
  events: readonly DuoTrustMonitorEvent[],
): TrustMonitorAggregates {
  let newest = 0;
  for (const event of events) {
    state.events += 1;
    const surfacedAt = event.surfaced_timestamp ?? 0;
    newest = Math.max(newest, surfacedAt);
    const bypass = event.bypass_status_enabled;
    state.findings[event.sekey] = {
      type: event.type ?? 'unknown',
      surfacedAt,
      state: event.state ?? 'unknown',
      triagedAsInteresting: event.triaged_as_interesting === true,
      priority: event.priority_event === true,
      explanations: (event.explanations ?? []).map((e) => e.summary ?? e.type ?? '').filter((text) => text !== ''),
      ...optional('userId', event.user?.key ?? bypass?.enabled_for?.key),
      ...optional('userName', event.user?.name ?? bypass?.enabled_for?.name),
      ...optional('phoneId', event.auth_device?.key),
      ...optional('epkey', event.access_device?.epkey),
      ...optional('adminId', bypass?.enabled_by?.key),
    };
  }
  prune(state, newest);
  return state;
}

function optional<K extends string>(name: K, value: string | null | undefined): Partial<Record<K, string>> {
  return value ? ({ [name]: value } as Record<K, string>) : {};
}

/** Drops findings older than the window, and the oldest beyond `MAX_FINDINGS`. */
function prune(state: TrustMonitorAggregates, newest: number): void {
  const oldest = newest - WINDOW_DAYS * DAY_MS;
  const entries = Object.entries(state.findings);
  for (const [key, finding] of entries) if (finding.surfacedAt < oldest) delete state.findings[key];
  const kept = Object.entries(state.findings);
  if (kept.length <= MAX_FINDINGS) return;
  kept.sort((a, b) => a[1].surfacedAt - b[1].surfacedAt);
  for (const [key] of kept.slice(0, kept.length - MAX_FINDINGS)) delete state.findings[key];
}
