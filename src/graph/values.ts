/**
 * Small pure helpers that turn Duo wire values into graph property values. Records reach the
 * converters as parsed JSON, so nothing here trusts a field's declared type.
 */

/** A trimmed, non-empty string, or undefined. */
export function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** Duo timestamps are Unix seconds; JupiterOne wants epoch milliseconds. */
export function epochMilliseconds(seconds: unknown): number | undefined {
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0
    ? Math.round(seconds * 1000)
    : undefined;
}

/**
 * Phones report `last_seen` as `2022-02-17T16:42:38`: no zone, in UTC. A string that carries a
 * zone is parsed as is.
 */
export function duoLocalTimeToEpochMilliseconds(value: unknown): number | undefined {
  const raw = text(value);
  if (!raw) return undefined;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(raw);
  const parsed = Date.parse(hasZone ? raw : `${raw}Z`);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
}

/** Duo mixes booleans and 0/1 integers for flags; both become booleans. */
export function flag(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  return undefined;
}

/** A finite number, or undefined. */
export function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Strings of a list, trimmed, empty ones and duplicates removed; undefined when nothing is left. */
export function stringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const seen = new Set<string>();
  for (const item of value) {
    const s = typeof item === 'number' ? String(item) : text(item);
    if (s !== undefined) seen.add(s);
  }
  return seen.size > 0 ? [...seen] : undefined;
}

/** A free-text note as the one-element list the data model's `notes` wants. */
export function notesList(value: unknown): string[] | undefined {
  const note = text(value);
  return note === undefined ? undefined : [note];
}

/** `Jane Q. Public` → first `Jane`, rest `Q. Public`; a single word has no rest. */
export function splitFullName(fullName: string | undefined): { first?: string; rest?: string } {
  const words = fullName?.trim().split(/\s+/).filter(Boolean) ?? [];
  if (words.length === 0) return {};
  return { first: words[0], rest: words.length > 1 ? words.slice(1).join(' ') : undefined };
}

/** The part of an address or login before `@`, or the whole value when there is no `@`. */
export function localPart(value: string): string {
  const at = value.indexOf('@');
  return at > 0 ? value.slice(0, at) : value;
}

/** Maps a Duo posture string to a boolean; unknown or blank values stay unknown. */
export function postureFlag(value: unknown, whenTrue: string, whenFalse: string): boolean | undefined {
  const v = text(value)?.toLowerCase();
  if (v === whenTrue.toLowerCase()) return true;
  if (v === whenFalse.toLowerCase()) return false;
  return undefined;
}

/**
 * A list setting as Duo's policy handlers send it: a JSON list, or a comma-separated string (both
 * appear in public clients). Trimmed, empty items and duplicates removed; undefined when empty.
 */
export function listSetting(value: unknown): string[] | undefined {
  return stringList(typeof value === 'string' ? value.split(',') : value);
}

/** A flag that may also arrive as the strings `true`/`false` (policy settings do, at times). */
export function flagSetting(value: unknown): boolean | undefined {
  if (typeof value === 'string') return postureFlag(value, 'true', 'false');
  return flag(value);
}

/** The object at `value`, or an empty one: a section or setting Duo left out reads as empty. */
export function objectOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
