/** Readable wording of schedule times, for the `schedule` commands' text output. Pure functions. */
import type { CalendarSpec, CalendarSpecDescription, ScheduleSpec, ScheduleSpecDescription } from '@temporalio/client';
import type { ScheduleApplyReport } from './reconcile';

/** `90 000` → `1m 30s`; `0` → `0s`. */
export function formatDuration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  if (rest > 0 || parts.length === 0) parts.push(parts.length === 0 && rest === 0 ? '0s' : `${rest}ms`);
  return parts.join(' ');
}

type RangeList = { start: number | string; end?: number | string; step?: number }[];

/** A calendar field of a description: `2`, `0-30/15`, `SUNDAY`; undefined when it matches everything. */
function calendarField(
  ranges: RangeList | undefined,
  everything: { start: number | string; end: number | string },
): string | undefined {
  if (!ranges || ranges.length === 0) return undefined;
  const matchesEverything = ranges.some(
    (range) => range.start === everything.start && range.end === everything.end && (range.step ?? 1) === 1,
  );
  if (matchesEverything) return undefined;
  return ranges
    .map((range) => {
      if (range.end === undefined || range.end === range.start) return String(range.start);
      const step = range.step && range.step > 1 ? `/${range.step}` : '';
      return `${range.start}-${range.end}${step}`;
    })
    .join(',');
}

function twoDigits(value: string): string {
  return /^\d$/.test(value) ? `0${value}` : value;
}

/**
 * A field of either form as a range list: descriptions already hold ranges; a `CalendarSpec` holds
 * values, ranges or `'*'`, and an unset time field means 0 (an unset date field, any).
 */
function rangesOf(value: unknown, unsetIsZero: boolean): RangeList | undefined {
  if (value === undefined) return unsetIsZero ? [{ start: 0 }] : undefined;
  if (value === '*') return undefined;
  const items = Array.isArray(value) ? value : [value];
  return items.map((item) =>
    item !== null && typeof item === 'object' ? (item as RangeList[number]) : { start: item as number | string },
  );
}

function describeCalendar(calendar: CalendarSpec | CalendarSpecDescription): string {
  const days = calendarField(rangesOf(calendar.dayOfWeek, false), { start: 'SUNDAY', end: 'SATURDAY' });
  const dayOfMonth = calendarField(rangesOf(calendar.dayOfMonth, false), { start: 1, end: 31 });
  const month = calendarField(rangesOf(calendar.month, false), { start: 'JANUARY', end: 'DECEMBER' });
  const hour = calendarField(rangesOf(calendar.hour, true), { start: 0, end: 23 }) ?? '*';
  const minute = calendarField(rangesOf(calendar.minute, true), { start: 0, end: 59 }) ?? '*';
  const second = calendarField(rangesOf(calendar.second, true), { start: 0, end: 59 }) ?? '*';
  const when = [days ? `every ${days}` : 'every day'];
  if (dayOfMonth) when.push(`on day ${dayOfMonth} of the month`);
  if (month) when.push(`in ${month}`);
  const time = `${twoDigits(hour)}:${twoDigits(minute)}${second === '0' ? '' : `:${twoDigits(second)}`}`;
  return `${when.join(' ')} at ${time} UTC`;
}

/** One line saying when a schedule fires, e.g. `every 30m (offset 7m)` or `every SUNDAY at 02:17 UTC`. */
export function describeWhen(spec: ScheduleSpec | ScheduleSpecDescription): string {
  const parts: string[] = [];
  for (const interval of spec.intervals ?? []) {
    const every = Number(interval.every);
    const offset = Number(interval.offset ?? 0);
    parts.push(`every ${formatDuration(every)}${offset > 0 ? ` (offset ${formatDuration(offset)})` : ''}`);
  }
  for (const calendar of spec.calendars ?? []) parts.push(describeCalendar(calendar));
  for (const cron of (spec as ScheduleSpec).cronExpressions ?? []) parts.push(`cron ${cron}`);
  const timezone = spec.timezone && spec.timezone !== 'UTC' ? ` (time zone ${spec.timezone})` : '';
  return parts.length > 0 ? `${parts.join('; ')}${timezone}` : 'never (no times in its spec)';
}

/** The outcome of `schedule apply`, one line per schedule and a count of each outcome. */
export function formatApplyReport(report: ScheduleApplyReport): string {
  const lines = [`Schedules (runs start on task queue ${report.taskQueue}):`];
  if (report.results.length === 0) lines.push('  none: no instance is configured and no duo-j1 schedule was found');
  const width = Math.max(0, ...report.results.map((result) => result.scheduleId.length));
  for (const result of report.results) {
    const notes: string[] = [];
    if (result.pollingInterval) notes.push(result.pollingInterval);
    if (result.when && result.outcome !== 'deleted') notes.push(result.when);
    if (result.changes?.length) notes.push(`changed: ${result.changes.join(', ')}`);
    if (result.paused) notes.push('paused (left paused)');
    if (result.reason) notes.push(result.reason);
    lines.push(`  ${result.outcome.padEnd(13)} ${result.scheduleId.padEnd(width)}  ${notes.join(' · ')}`.trimEnd());
  }
  const counts = Object.entries(report.summary)
    .filter(([, count]) => count > 0)
    .map(([outcome, count]) => `${count} ${outcome}`);
  lines.push(counts.length > 0 ? counts.join(', ') : 'nothing to do');
  return lines.join('\n');
}
