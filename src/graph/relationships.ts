/**
 * Relationship builders. Keys and shapes follow JupiterOne's SDK (`createDirectRelationship`,
 * `createMappedRelationship`) so that objects match what JupiterOne's own integrations send.
 */
import type { DuoAdmin, DuoEndpoint, DuoUser } from '../duo/types';
import { MAPPED_RELATIONSHIP_KINDS, type MappedRelationshipKind, type RelationshipKind } from './data-model';
import { userNames } from './converters';
import { asciiOnly, graphIndexEntryJson, graphObjectHash, type StagedGraphObject } from './serialization';
import type { DirectRelationship, MappedRelationship } from './types';
import { isValidEmail } from './validation';
import { localPart, splitFullName, text } from './values';

/** What every relationship of a kind shares, worked out once: a build makes hundreds of thousands. */
interface DirectKindParts {
  /** The class lower-cased, for keys. */
  keyClass: string;
  /** The canonical text up to the `_fromEntityKey` value, and from the `_toEntityKey` value's end. */
  head: string;
  tail: string;
}

const directKindParts = new Map<RelationshipKind, DirectKindParts>();

function partsOf(kind: RelationshipKind): DirectKindParts {
  let parts = directKindParts.get(kind);
  if (!parts) {
    const classJson = JSON.stringify(kind._class);
    parts = {
      keyClass: kind._class.toLowerCase(),
      head: `{"_class":${classJson},"_fromEntityKey":`,
      tail: `,"_type":${JSON.stringify(kind._type)},"displayName":${classJson}}`,
    };
    directKindParts.set(kind, parts);
  }
  return parts;
}

/** `<from>|<class lower-cased>|<to>`, the SDK's rule. */
export function directRelationshipKey(kind: RelationshipKind, fromKey: string, toKey: string): string {
  return `${fromKey}|${partsOf(kind).keyClass}|${toKey}`;
}

export function directRelationship(kind: RelationshipKind, fromKey: string, toKey: string): DirectRelationship {
  // Properties in canonical order (serialization.ts): the relationship serialises as it is.
  return {
    _class: kind._class,
    _fromEntityKey: fromKey,
    _key: directRelationshipKey(kind, fromKey, toKey),
    _toEntityKey: toKey,
    _type: kind._type,
    displayName: kind._class,
  };
}

/**
 * The canonical text of `directRelationship(kind, fromKey, toKey)` whose key is `key`, before its
 * ASCII-only step (`graphObjectJsonWithAnyCharacters`, serialization.ts): the same text, written
 * from the relationship's strings instead of made as an object and serialised — most of a large
 * tenant's graph objects are these. JSON.stringify of each string escapes it as it would inside
 * the object; the properties are in canonical (sorted) order.
 */
export function directRelationshipJson(kind: RelationshipKind, fromKey: string, key: string, toKey: string): string {
  const { head, tail } = partsOf(kind);
  return `${head}${JSON.stringify(fromKey)},"_key":${JSON.stringify(key)},"_toEntityKey":${JSON.stringify(toKey)}${tail}`;
}

/**
 * `stagedGraphObject(directRelationship(kind, fromKey, toKey))` (serialization.ts), whose key is
 * `key`, from the relationship's strings: for an edge made one at a time (the build's account
 * edges), as `directRelationshipJson` is for the edges a batch converts.
 */
export function stagedDirectRelationship(
  kind: RelationshipKind,
  fromKey: string,
  key: string,
  toKey: string,
): StagedGraphObject {
  const text = asciiOnly(directRelationshipJson(kind, fromKey, key, toKey));
  return { key, text, indexEntry: graphIndexEntryJson(key, graphObjectHash(text), fromKey, toKey) };
}

/**
 * The SDK's `_key` for a mapped relationship whose target has no `_key`:
 * `<source key>|<class>|<DIRECTION>:<k>=<v>:…` over the filter keys of every group, in order.
 */
export function mappedRelationshipKey(
  kind: MappedRelationshipKind,
  sourceEntityKey: string,
  targetEntity: Readonly<Record<string, string | number | boolean | null>>,
): string {
  let target: string = kind.direction;
  for (const group of kind.targetFilterKeys) {
    target += `:${group.map((k) => `${k}=${String(targetEntity[k])}`).join(':')}`;
  }
  return `${sourceEntityKey}|${kind._class.toLowerCase()}|${target}`;
}

/**
 * Names for the employee JupiterOne creates when none matches. Each name falls back on its own:
 * Duo's first or last name, else the real name split at its first space, else the email's local
 * part (without any `+tag`) split at its first `.`, `_` or `-`. A name nothing provides is an
 * empty string, as the Person schema wants strings.
 */
export function employeeNames(
  user: Pick<DuoUser, 'firstname' | 'lastname' | 'realname'>,
  email: string,
): { firstName: string; lastName: string; displayName: string } {
  const { firstName, lastName } = userNames(user);
  const fromEmail = splitFullName(
    localPart(email)
      .replace(/\+.*$/, '')
      .replace(/[._-]+/, ' '),
  );
  const first = firstName ?? fromEmail.first ?? '';
  const last = lastName ?? fromEmail.rest ?? '';
  const displayName = text(user.realname) ?? (text(`${first} ${last}`) || email);
  return { firstName: first, lastName: last, displayName };
}

type EmployeeMappingKind = (typeof MAPPED_RELATIONSHIP_KINDS)['userIsEmployee' | 'adminIsEmployee'];

// One copy for every mapping: the objects are serialised right away and never modified.
const EMPLOYEE_FILTER_KEYS: string[][] = MAPPED_RELATIONSHIP_KINDS.userIsEmployee.targetFilterKeys.map((group) => [
  ...group,
]);

/**
 * `employee IS duo_user` (REVERSE), matched on the lower-cased email; undefined for a user whose
 * email is missing or invalid (no good match is possible, and a bad one would link the wrong person).
 */
export function employeeMapping(user: DuoUser, userKey: string): MappedRelationship | undefined {
  return mappingToEmployee(MAPPED_RELATIONSHIP_KINDS.userIsEmployee, user, user.email, userKey);
}

/** `employee IS duo_admin`, by the same rule as users' (an administrator has only a full name). */
export function adminEmployeeMapping(admin: DuoAdmin, adminKey: string): MappedRelationship | undefined {
  return mappingToEmployee(MAPPED_RELATIONSHIP_KINDS.adminIsEmployee, { realname: admin.name }, admin.email, adminKey);
}

function mappingToEmployee(
  kind: EmployeeMappingKind,
  person: Pick<DuoUser, 'firstname' | 'lastname' | 'realname'>,
  rawEmail: unknown,
  sourceKey: string,
): MappedRelationship | undefined {
  const raw = text(rawEmail);
  if (raw === undefined) return undefined;
  const email = raw.toLowerCase();
  if (!isValidEmail(email)) return undefined;
  const names = employeeNames(person, email);
  const targetEntity = {
    _type: kind.targetType,
    _class: kind.targetClass,
    email,
    firstName: names.firstName,
    lastName: names.lastName,
    name: names.displayName,
    displayName: names.displayName,
  };
  // Properties in canonical order (serialization.ts): the relationship serialises as it is.
  return {
    _class: kind._class,
    _key: mappedRelationshipKey(kind, sourceKey, targetEntity),
    _mapping: {
      relationshipDirection: kind.direction,
      sourceEntityKey: sourceKey,
      targetFilterKeys: EMPLOYEE_FILTER_KEYS,
      targetEntity,
    },
    _type: kind._type,
    displayName: kind._class,
  };
}

const DEVICE_FILTER_KEYS: string[][] = MAPPED_RELATIONSHIP_KINDS.endpointIsDevice.targetFilterKeys.map((group) => [
  ...group,
]);

/**
 * `duo_endpoint IS <Device>` (FORWARD): the same machine as another integration's Device, matched
 * on `_class` and `hostname` (Duo's device name). JupiterOne links to a Device that exists and
 * creates none; an endpoint without a device name maps to nothing.
 */
export function endpointDeviceMapping(endpoint: DuoEndpoint, endpointKey: string): MappedRelationship | undefined {
  const hostname = text(endpoint.device_name);
  if (hostname === undefined) return undefined;
  const kind = MAPPED_RELATIONSHIP_KINDS.endpointIsDevice;
  const targetEntity = { _class: kind.targetClass, hostname };
  // Properties in canonical order (serialization.ts): the relationship serialises as it is.
  return {
    _class: kind._class,
    _key: mappedRelationshipKey(kind, endpointKey, targetEntity),
    _mapping: {
      relationshipDirection: kind.direction,
      skipTargetCreation: kind.skipTargetCreation,
      sourceEntityKey: endpointKey,
      targetFilterKeys: DEVICE_FILTER_KEYS,
      targetEntity,
    },
    _type: kind._type,
    displayName: kind._class,
  };
}
