/**
 * Reading the simulators' fault settings from JSON a person wrote (`duo-j1 simulate … --faults`, or
 * a PUT to the control route): every field checked against the simulator's fault shape, every
 * problem reported at once, an unknown field named with the field it was probably meant to be.
 *
 * Each simulator declares one rule per field of its shape, typed so that a field added to the
 * shape without a rule does not compile. Written here rather than taken from a schema library:
 * the shapes are two small objects, the rules are a few lines each, and the messages share the
 * configuration's "did you mean" (src/util/known-names.ts).
 */
import { unknownFields } from '../util/known-names';
import { describeValue } from '../util/redact';

/** The settings are unusable; `problems` lists each, naming the field by its JSON path. */
export class FaultSettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? `Invalid fault settings: ${problems[0]}`
        : `${problems.length} problems with the fault settings:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
    );
    this.name = 'FaultSettingsError';
  }
}

/** Checks one value at `where` (a JSON path such as `endpointErrors./admin/v1/users.status`). */
export type FieldRule<T> = (value: unknown, where: string, problems: string[]) => T | undefined;

/** A rule for every field of `T`, optional fields included. */
export type FieldRules<T> = { [K in keyof Required<T>]: FieldRule<T[K]> };

function shown(value: unknown): string {
  if (typeof value === 'string') return describeValue(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? 'an array' : `${typeof value === 'object' ? 'an object' : typeof value}`;
}

/** A probability per request, from 0 to 1. */
export const rate: FieldRule<number> = (value, where, problems) => {
  if (typeof value === 'number' && value >= 0 && value <= 1) return value;
  problems.push(`${where} must be a number from 0 to 1, not ${shown(value)}`);
  return undefined;
};

/** A whole number of at least `min`. */
export function wholeNumber(min: number): FieldRule<number> {
  return (value, where, problems) => {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min) return value;
    problems.push(`${where} must be a whole number of at least ${min}, not ${shown(value)}`);
    return undefined;
  };
}

/** An HTTP status from `min` (an error answer: 400) to 599. */
export function httpStatus(min = 100): FieldRule<number> {
  const whole = wholeNumber(min);
  return (value, where, problems) => {
    const status = whole(value, where, problems);
    if (status === undefined || status <= 599) return status;
    problems.push(`${where} must be an HTTP status from ${min} to 599, not ${status}`);
    return undefined;
  };
}

/** A number of at least 0. */
export const nonNegative: FieldRule<number> = (value, where, problems) => {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  problems.push(`${where} must be a number of at least 0, not ${shown(value)}`);
  return undefined;
};

export const boolean: FieldRule<boolean> = (value, where, problems) => {
  if (typeof value === 'boolean') return value;
  problems.push(`${where} must be true or false, not ${shown(value)}`);
  return undefined;
};

export const text: FieldRule<string> = (value, where, problems) => {
  if (typeof value === 'string' && value.length <= 2048) return value;
  problems.push(`${where} must be a string of at most 2048 characters, not ${shown(value)}`);
  return undefined;
};

/** An endpoint path, as the simulators key their faults: `/admin/v1/users`. */
export const endpointPath: FieldRule<string> = (value, where, problems) => {
  if (typeof value === 'string' && /^\/[A-Za-z0-9/_.-]{0,200}$/.test(value)) return value;
  problems.push(`${where} must be an endpoint path such as "/admin/v1/users", not ${shown(value)}`);
  return undefined;
};

export function oneOf<T extends string>(choices: readonly T[]): FieldRule<T> {
  return (value, where, problems) => {
    if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
    problems.push(`${where} must be one of ${choices.join(', ')}, not ${shown(value)}`);
    return undefined;
  };
}

export function arrayOf<T>(item: FieldRule<T>): FieldRule<T[]> {
  return (value, where, problems) => {
    if (!Array.isArray(value)) {
      problems.push(`${where} must be an array, not ${shown(value)}`);
      return undefined;
    }
    const items = value.map((element, index) => item(element, `${where}[${index}]`, problems));
    return items.every((element) => element !== undefined) ? (items as T[]) : undefined;
  };
}

/** An object whose keys are endpoint paths, each value checked by `item`. */
export function byEndpointPath<T>(item: FieldRule<T>): FieldRule<Record<string, T>> {
  return (value, where, problems) => {
    if (!isPlainObject(value)) {
      problems.push(`${where} must be an object keyed by endpoint path, not ${shown(value)}`);
      return undefined;
    }
    const result: Record<string, T> = {};
    for (const [key, element] of Object.entries(value)) {
      const path = endpointPath(key, `${where} key`, problems);
      const checked = item(element, `${where}.${key}`, problems);
      if (path !== undefined && checked !== undefined) result[path] = checked;
    }
    return result;
  };
}

/** An object holding only the fields `rules` names, each checked by its rule; `required` must be present. */
export function objectOf<T extends object>(rules: FieldRules<T>, required: readonly (keyof T)[] = []): FieldRule<T> {
  const known = Object.keys(rules);
  return (value, where, problems) => {
    if (!isPlainObject(value)) {
      problems.push(`${where || 'the fault settings'} must be an object, not ${shown(value)}`);
      return undefined;
    }
    const at = (field: string) => (where ? `${where}.${field}` : field);
    for (const { name, suggestion } of unknownFields(value, known)) {
      problems.push(
        `${at(name)} is not a known fault; ${suggestion ? `did you mean "${suggestion}"?` : `known: ${known.join(', ')}`}`,
      );
    }
    for (const field of required) {
      if (value[field as string] === undefined) problems.push(`${at(String(field))} is required`);
    }
    const before = problems.length;
    const result: Record<string, unknown> = {};
    for (const field of known) {
      if (value[field] === undefined) continue;
      const checked = (rules as Record<string, FieldRule<unknown>>)[field](value[field], at(field), problems);
      if (checked !== undefined) result[field] = checked;
    }
    return problems.length === before ? (result as T) : undefined;
  };
}

/**
 * Parses fault settings: `text` is JSON (the `--faults` flag, a control-route body) or an already
 * parsed value. Throws `FaultSettingsError` listing every problem.
 */
export function parseFaultSettings<T>(input: unknown, rule: FieldRule<T>): T {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new FaultSettingsError([`the fault settings are not valid JSON (${(error as Error).message})`]);
    }
  }
  const problems: string[] = [];
  const parsed = rule(value, '', problems);
  if (problems.length > 0 || parsed === undefined) throw new FaultSettingsError(problems);
  return parsed;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
