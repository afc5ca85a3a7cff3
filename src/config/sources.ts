/**
 * Which optional sources an instance reads (src/resources/table.ts declares them, each with its
 * default): `DUO_SOURCES` for the account configured by environment, the `sources` field of an
 * instance in the instances file. Only what differs from a source's default needs saying.
 *
 *   DUO_SOURCES=endpoints=off,bypassCodes=on
 *   "sources": { "endpoints": "off", "bypassCodes": true }
 *
 * Strict like the rest of the configuration: a name no source has is a problem, with the name it
 * was probably meant to be, because a switch ignored in silence is data read (or not read) against
 * the user's wish.
 */
import { optionalSources, type OptionalSource, type SourceName, type SourceSwitches } from '../resources/table';
import { closestName } from '../util/known-names';
import { jsonKind, type ProblemList, type RawValue, shown } from './values';

/** The name of every optional source, in table order. */
export function sourceNames(): SourceName[] {
  return optionalSources().map((entry) => entry.source.name);
}

/** `on`/`off` (also `true`/`false`, any case); undefined, with a problem, for anything else. */
function readSwitch(value: RawValue, setting: string, problems: ProblemList): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(on|true)$/i.test(value.trim())) return true;
  if (typeof value === 'string' && /^(off|false)$/i.test(value.trim())) return false;
  problems.add(setting, `must be on or off, not ${shown(value)}`);
  return undefined;
}

/** A source's name as written, or a problem naming the name it was probably meant to be. */
function knownName(name: string, setting: string, problems: ProblemList): SourceName | undefined {
  const names = sourceNames();
  if ((names as string[]).includes(name)) return name as SourceName;
  const suggestion = closestName(name, names);
  // Shown only when it cannot be a secret pasted into the wrong place.
  problems.add(
    setting,
    `names a source ${shown(name)} that duo-j1 does not have; ` +
      (suggestion ? `did you mean "${suggestion}"?` : `the sources are ${names.join(', ')}`),
  );
  return undefined;
}

/** `DUO_SOURCES`: comma-separated `<source>=on|off`. */
export function readSourcesVariable(value: string | undefined, setting: string, problems: ProblemList): SourceSwitches {
  const switches: Partial<Record<SourceName, boolean>> = {};
  if (value === undefined || value.trim() === '') return switches;
  for (const entry of value.split(',')) {
    if (entry.trim() === '') continue;
    const [rawName, rawSwitch, ...rest] = entry.split('=');
    if (rawSwitch === undefined || rest.length > 0) {
      problems.add(
        setting,
        `must be a comma-separated list of <source>=on or <source>=off (sources: ${sourceNames().join(', ')}), not ${shown(value)}`,
      );
      return {};
    }
    const name = knownName(rawName.trim(), setting, problems);
    if (name === undefined) continue;
    const on = readSwitch(rawSwitch, `${setting} (${name})`, problems);
    if (on === undefined) continue;
    if (name in switches) problems.add(setting, `switches "${name}" more than once`);
    switches[name] = on;
  }
  return switches;
}

/** An instance's `sources` field: an object of `<source>: "on" | "off" | true | false`. */
export function readSourcesField(value: RawValue, setting: string, problems: ProblemList): SourceSwitches {
  const switches: Partial<Record<SourceName, boolean>> = {};
  if (value === undefined || value === null) return switches;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.add(setting, `must be an object of <source>: "on" or "off", not ${jsonKind(value)}`);
    return switches;
  }
  for (const [rawName, rawSwitch] of Object.entries(value)) {
    const name = knownName(rawName, setting, problems);
    if (name === undefined) continue;
    const on = readSwitch(rawSwitch, `${setting}.${name}`, problems);
    if (on !== undefined) switches[name] = on;
  }
  return switches;
}

/** How to switch a source off, in both forms of the configuration. */
export function switchOffInWords(source: OptionalSource): string {
  return `DUO_SOURCES=${source.name}=off, or "sources": {"${source.name}": "off"} in the instances file`;
}
