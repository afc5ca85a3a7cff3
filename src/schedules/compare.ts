/**
 * Does an existing schedule already do what the configuration asks? Pure functions that bring the
 * definition `apply` would send and the one Temporal describes back to one canonical form, so that
 * applying an unchanged configuration sends no update at all.
 *
 * The two forms differ in shape, not meaning: the server returns calendar fields as explicit
 * ranges (`hour: [{ start: 2, end: 2, step: 1 }]` for `hour: 2`, every unset field filled in),
 * durations in milliseconds, an empty time zone for UTC, and absent fields for defaults.
 */
import type {
  CalendarSpec,
  CalendarSpecDescription,
  ScheduleDescription,
  ScheduleOptions,
  ScheduleSpec,
  ScheduleSpecDescription,
} from '@temporalio/client';
import type { Duration } from '@temporalio/common';

const DAY_NAMES = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];
const MONTH_NAMES = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
];

interface FieldDomain {
  min: number;
  max: number;
  /** Names standing for values (`SUNDAY` = 0, `JANUARY` = 1). */
  names?: string[];
  nameBase?: number;
  /** What an unset field of a `CalendarSpec` means. */
  unset: number | '*';
}

const CALENDAR_FIELDS: Record<'second' | 'minute' | 'hour' | 'dayOfMonth' | 'month' | 'dayOfWeek', FieldDomain> = {
  second: { min: 0, max: 59, unset: 0 },
  minute: { min: 0, max: 59, unset: 0 },
  hour: { min: 0, max: 23, unset: 0 },
  dayOfMonth: { min: 1, max: 31, unset: '*' },
  month: { min: 1, max: 12, names: MONTH_NAMES, nameBase: 1, unset: '*' },
  dayOfWeek: { min: 0, max: 6, names: DAY_NAMES, nameBase: 0, unset: '*' },
};

type LooseField = unknown;

function fieldValue(value: unknown, domain: FieldDomain): number {
  if (typeof value === 'number') return value;
  const index = domain.names?.indexOf(String(value).toUpperCase()) ?? -1;
  if (index < 0) throw new RangeError(`Unexpected calendar value ${JSON.stringify(value)}`);
  return index + (domain.nameBase ?? 0);
}

/**
 * A calendar field as the sorted list of values it matches, or `'*'` when it matches every value
 * of its domain (an empty list in a description means the same).
 */
function canonicalField(input: LooseField, domain: FieldDomain): number[] | '*' {
  if (input === undefined) return domain.unset === '*' ? '*' : [domain.unset];
  if (input === '*') return '*';
  const items = Array.isArray(input) ? input : [input];
  if (items.length === 0) return '*';
  const values = new Set<number>();
  for (const item of items) {
    if (item !== null && typeof item === 'object' && 'start' in item) {
      const range = item as { start: unknown; end?: unknown; step?: number };
      const start = fieldValue(range.start, domain);
      const end = range.end === undefined ? start : Math.max(start, fieldValue(range.end, domain));
      const step = typeof range.step === 'number' && range.step > 0 ? range.step : 1;
      for (let value = start; value <= Math.min(end, domain.max); value += step) values.add(value);
    } else values.add(fieldValue(item, domain));
  }
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === domain.max - domain.min + 1 ? '*' : sorted;
}

/** Years have no upper bound, so ranges stay ranges: `start-end/step`. */
function canonicalYear(input: LooseField): string[] | '*' {
  if (input === undefined || input === '*') return '*';
  const items = Array.isArray(input) ? input : [input];
  if (items.length === 0) return '*';
  return items
    .map((item) => {
      if (item !== null && typeof item === 'object' && 'start' in item) {
        const range = item as { start: number; end?: number; step?: number };
        const end = range.end === undefined ? range.start : Math.max(range.start, range.end);
        const step = typeof range.step === 'number' && range.step > 0 ? range.step : 1;
        return `${range.start}-${end}/${step}`;
      }
      return `${item}-${item}/1`;
    })
    .sort();
}

function canonicalCalendar(calendar: CalendarSpec | CalendarSpecDescription): Record<string, unknown> {
  const canonical: Record<string, unknown> = {};
  for (const [name, domain] of Object.entries(CALENDAR_FIELDS)) {
    canonical[name] = canonicalField((calendar as Record<string, unknown>)[name], domain);
  }
  canonical.year = canonicalYear(calendar.year);
  canonical.comment = calendar.comment ?? '';
  return canonical;
}

function sortedByJson<T>(values: T[]): T[] {
  return values
    .map((value) => [stableJson(value), value] as const)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, value]) => value);
}

/**
 * Durations in milliseconds. Descriptions always hold numbers, and so do the definitions duo-j1
 * builds; a text duration (`'30m'`) would come from elsewhere and is refused rather than guessed.
 */
function durationMs(duration: Duration): number {
  if (typeof duration === 'number') return duration;
  throw new TypeError(`Schedule durations must be given in milliseconds, not as text ("${duration}")`);
}

/** Durations are kept to whole seconds by the server. */
function seconds(duration: Duration | undefined): number {
  return duration === undefined ? 0 : Math.round(durationMs(duration) / 1000) * 1000;
}

function optionalMs(duration: Duration | undefined): number | null {
  return duration === undefined ? null : durationMs(duration);
}

export function canonicalSpec(spec: ScheduleSpec | ScheduleSpecDescription): Record<string, unknown> {
  return {
    intervals: sortedByJson(
      (spec.intervals ?? []).map((interval) => ({ every: seconds(interval.every), offset: seconds(interval.offset) })),
    ),
    calendars: sortedByJson((spec.calendars ?? []).map(canonicalCalendar)),
    // Descriptions never hold cron strings (the server compiles them into calendars), so a
    // definition using them always counts as changed; duo-j1's own definitions use none.
    cronExpressions: [...(((spec as ScheduleSpec).cronExpressions as string[] | undefined) ?? [])].sort(),
    skip: sortedByJson((spec.skip ?? []).map(canonicalCalendar)),
    startAt: spec.startAt ? spec.startAt.toISOString() : null,
    endAt: spec.endAt ? spec.endAt.toISOString() : null,
    jitter: seconds(spec.jitter),
    timezone: spec.timezone && spec.timezone !== 'UTC' ? spec.timezone : 'UTC',
  };
}

type ActionLike = ScheduleOptions['action'] | ScheduleDescription['action'];

export function canonicalAction(action: ActionLike): Record<string, unknown> {
  const workflowType = typeof action.workflowType === 'function' ? action.workflowType.name : action.workflowType;
  return {
    workflowType,
    taskQueue: action.taskQueue,
    workflowId: action.workflowId ?? null,
    args: action.args ?? [],
    memo: action.memo ?? {},
    retry: action.retry ?? null,
    workflowExecutionTimeout: optionalMs(action.workflowExecutionTimeout),
    workflowRunTimeout: optionalMs(action.workflowRunTimeout),
    workflowTaskTimeout: optionalMs(action.workflowTaskTimeout),
    staticSummary: action.staticSummary ?? null,
    staticDetails: action.staticDetails ?? null,
  };
}

type PoliciesLike = ScheduleOptions['policies'] | ScheduleDescription['policies'];

export function canonicalPolicies(policies: PoliciesLike): Record<string, unknown> {
  return {
    overlap: policies?.overlap ?? 'SKIP',
    catchupWindow: policies?.catchupWindow === undefined ? null : seconds(policies.catchupWindow),
    pauseOnFailure: policies?.pauseOnFailure ?? false,
  };
}

/** JSON with object keys sorted, so equal values always give equal text. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      return Object.fromEntries(
        Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
    return item;
  });
}

/**
 * What differs between the wanted definition and an existing schedule, as `part.field` names
 * (`spec.intervals`, `action.taskQueue`, `policies.catchupWindow`, …); empty when they agree.
 * The schedule's state (paused, note) is not part of the definition: operators own it.
 */
export function scheduleDifferences(wanted: ScheduleOptions, existing: ScheduleDescription): string[] {
  const parts: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['spec', canonicalSpec(wanted.spec), canonicalSpec(existing.spec)],
    ['action', canonicalAction(wanted.action), canonicalAction(existing.action)],
    ['policies', canonicalPolicies(wanted.policies), canonicalPolicies(existing.policies)],
  ];
  const differences: string[] = [];
  for (const [part, want, have] of parts) {
    for (const field of Object.keys(want)) {
      if (stableJson(want[field]) !== stableJson(have[field])) differences.push(`${part}.${field}`);
    }
  }
  return differences;
}
