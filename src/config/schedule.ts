/**
 * When an instance runs: its polling interval (the Temporal Schedule standing in for it) and, for
 * daily and weekly runs, the hour and day.
 */
import { readChoice, readWholeNumber, type ProblemList } from './values';

export const POLLING_INTERVALS = [
  'DISABLED',
  'THIRTY_MINUTES',
  'ONE_HOUR',
  'FOUR_HOURS',
  'EIGHT_HOURS',
  'TWELVE_HOURS',
  'ONE_DAY',
  'ONE_WEEK',
] as const;
export type PollingInterval = (typeof POLLING_INTERVALS)[number];

export const DAYS_OF_WEEK = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;
export type DayOfWeek = (typeof DAYS_OF_WEEK)[number];

export interface ScheduleSettings {
  /** Hour of day (0–23, UTC) of `ONE_DAY` and `ONE_WEEK` runs. */
  hour: number;
  /** Day of `ONE_WEEK` runs. */
  dayOfWeek: DayOfWeek;
}

export const DEFAULT_POLLING_INTERVAL: PollingInterval = 'ONE_DAY';
export const DEFAULT_SCHEDULE: ScheduleSettings = { hour: 2, dayOfWeek: 'SUNDAY' };

export function readPollingInterval(value: unknown, setting: string, problems: ProblemList): PollingInterval {
  return readChoice(value, POLLING_INTERVALS, DEFAULT_POLLING_INTERVAL, setting, problems);
}

/** An instance's schedule, each part defaulting to `defaults`. */
export function readSchedule(
  values: { hour: unknown; dayOfWeek: unknown },
  defaults: ScheduleSettings,
  settings: { hour: string; dayOfWeek: string },
  problems: ProblemList,
): ScheduleSettings {
  return {
    hour: readWholeNumber(values.hour, { min: 0, max: 23, fallback: defaults.hour }, settings.hour, problems),
    dayOfWeek: readChoice(values.dayOfWeek, DAYS_OF_WEEK, defaults.dayOfWeek, settings.dayOfWeek, problems),
  };
}
