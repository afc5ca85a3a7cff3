/**
 * Graph facts from the aggregates of Duo's authentication log (docs/logs.md): pure conversion.
 * Counts cover the 30 days up to `now` (the build's clock), so a fact ages out of the graph as the
 * days pass even while no new event arrives.
 */
import {
  countInWindow,
  dayOf,
  inWindow,
  type AuthenticationAggregates,
  type UsageAggregate,
  type UserAggregate,
} from '../logs/aggregates';
import type { AdministrationAggregates, Reference } from '../logs/administration';
import type { TrustMonitorAggregates } from '../logs/trust-monitor';
import { ENTITY_KEYS, ENTITY_KINDS, RELATIONSHIP_KINDS, type RelationshipKind } from './data-model';
import { directRelationship } from './relationships';
import type { DirectRelationship, Entity } from './types';

export interface LogGraphFacts {
  /** Properties to add to the entity of this `_type` and `_key`; undefined when it has no log activity. */
  entityProperties(type: string, key: string): Record<string, string | number | boolean> | undefined;
  /** The `duo_user USES duo_integration` edges whose two ends `exists` accepts. */
  usageRelationships(exists: (userKey: string, integrationKey: string) => boolean): Iterable<DirectRelationship>;
  /**
   * Properties to add to a `duo_user USES duo_phone` or `duo_user USES duo_endpoint` edge of this
   * `_key` (`lastUsedOn`); undefined when the log shows no use of it in the last 30 days.
   */
  relationshipProperties(type: string, key: string): Record<string, number> | undefined;
  /**
   * Every `duo_user USES duo_phone` / `duo_endpoint` edge the log shows in the last 30 days, with
   * its `lastUsedOn`, whose two ends `exists` accepts (the build adds those the inventory did not
   * make: a shared machine, a phone moved to another user).
   */
  deviceUseRelationships(
    exists: (userKey: string, deviceType: string, deviceKey: string) => boolean,
  ): Iterable<DirectRelationship>;
  /** Trust Monitor's events as findings, when they were read through their backfill. */
  findings?: Iterable<{ entity: Entity; concerned: { kind: RelationshipKind; key: string }[] }>;
  /** The administrator and activity logs' facts, when they were read (and through their backfill). */
  administration?: {
    facts(resolve: AdministrationResolver): AdministrationGraphFacts;
    /** The users' usernames the facts name users by. */
    usernames: ReadonlySet<string>;
  };
}

/** Finds the entity key a log's reference (`name:…` or `key:…`) names; undefined when none or several. */
export interface AdministrationResolver {
  admin(reference: Reference): string | undefined;
  integration(reference: Reference): string | undefined;
  user(reference: Reference): string | undefined;
}

export interface AdministrationGraphFacts {
  /** `lastActionOn`, `lastAction`, `actions30d` by administrator entity key. */
  adminProperties: Map<string, Record<string, string | number>>;
  /** Who created which integration, who viewed whose secret key, who switched whom to bypass. */
  relationships: DirectRelationship[];
  /** References no entity of the run answers to (or more than one), by relationship type. */
  unresolved: Record<string, number>;
}

/**
 * The facts of the administrator and activity logs, given how the run's entities answer to the
 * logs' references: an administrator named in both logs (by name in one, by key in the other)
 * is one administrator, and an edge both logs show is one edge, with the later time.
 */
export function administrationGraphFacts(
  aggregates: AdministrationAggregates,
  now: number,
  resolve: AdministrationResolver,
): AdministrationGraphFacts {
  const today = dayOf(now);
  const adminProperties = new Map<string, Record<string, string | number>>();
  for (const [reference, admin] of Object.entries(aggregates.admins)) {
    const key = resolve.admin(reference);
    if (!key) continue;
    const known = adminProperties.get(key);
    const actions30d = countInWindow(admin.actions, today) + ((known?.actions30d as number | undefined) ?? 0);
    const later = !known || admin.lastAt >= (known.lastActionOn as number);
    adminProperties.set(key, {
      lastActionOn: later ? admin.lastAt : (known.lastActionOn as number),
      lastAction: later ? admin.lastAction : (known.lastAction as string),
      actions30d,
    });
  }

  const edges = new Map<string, DirectRelationship>();
  const unresolved: Record<string, number> = {};
  const edge = (
    kind: RelationshipKind,
    from: string | undefined,
    to: string | undefined,
    property: string,
    at: number,
  ): void => {
    if (!from || !to) {
      unresolved[kind._type] = (unresolved[kind._type] ?? 0) + 1;
      return;
    }
    const made = { ...directRelationship(kind, from, to), [property]: at };
    const known = edges.get(made._key);
    if (!known || (known[property] as number) < at) edges.set(made._key, made);
  };
  for (const [integration, created] of Object.entries(aggregates.createdIntegrations)) {
    edge(
      RELATIONSHIP_KINDS.adminCreatedIntegration,
      resolve.admin(created.admin),
      resolve.integration(integration),
      'createdOn',
      created.at,
    );
  }
  for (const [view, at] of Object.entries(aggregates.secretKeyViews)) {
    const [admin, integration] = view.split('\n') as [Reference, Reference];
    edge(
      RELATIONSHIP_KINDS.adminKnowsIntegration,
      resolve.admin(admin),
      resolve.integration(integration),
      'secretKeyViewedOn',
      at,
    );
  }
  for (const [user, enabled] of Object.entries(aggregates.bypassEnabled)) {
    edge(
      RELATIONSHIP_KINDS.adminAllowsUser,
      resolve.admin(enabled.admin),
      resolve.user(user),
      'bypassEnabledOn',
      enabled.at,
    );
  }
  return { adminProperties, relationships: [...edges.values()], unresolved };
}

/** The usernames the administrator log names users by (the build indexes only those users). */
export function usernamesNamed(aggregates: AdministrationAggregates): Set<string> {
  const names = new Set<string>();
  for (const reference of Object.keys(aggregates.bypassEnabled)) {
    if (reference.startsWith('name:')) names.add(reference.slice('name:'.length));
  }
  return names;
}

/** Trust Monitor's events of the last 30 days as `Finding` entities, with whom each concerns. */
function* findingsOf(
  aggregates: TrustMonitorAggregates,
  now: number,
): Generator<{ entity: Entity; concerned: { kind: RelationshipKind; key: string }[] }> {
  for (const [sekey, finding] of Object.entries(aggregates.findings)) {
    if (!inWindow(finding.surfacedAt, now)) continue;
    const name = `Trust Monitor: ${finding.type} of ${finding.userName ?? finding.userId ?? 'an unknown user'}`;
    // Unconfirmed: `processed` is Duo's state of a triaged event.
    const open = finding.state !== 'processed';
    const entity = {
      _class: [...ENTITY_KINDS.trustMonitorEvent._class],
      _key: ENTITY_KEYS.trustMonitorEvent(sekey),
      _type: ENTITY_KINDS.trustMonitorEvent._type,
      category: 'Trust Monitor',
      createdOn: finding.surfacedAt,
      displayName: name,
      eventType: finding.type,
      explanations: finding.explanations,
      id: sekey,
      name,
      numericSeverity: finding.priority ? 7 : 5,
      open,
      priority: finding.priority,
      severity: finding.priority ? 'high' : 'medium',
      state: finding.state,
      surfacedOn: finding.surfacedAt,
      triagedAsInteresting: finding.triagedAsInteresting,
    } as Entity;
    const concerned: { kind: RelationshipKind; key: string }[] = [];
    if (finding.userId)
      concerned.push({ kind: RELATIONSHIP_KINDS.userHasTrustMonitorEvent, key: ENTITY_KEYS.user(finding.userId) });
    if (finding.adminId)
      concerned.push({ kind: RELATIONSHIP_KINDS.adminHasTrustMonitorEvent, key: ENTITY_KEYS.admin(finding.adminId) });
    if (finding.phoneId)
      concerned.push({ kind: RELATIONSHIP_KINDS.phoneHasTrustMonitorEvent, key: ENTITY_KEYS.phone(finding.phoneId) });
    if (finding.epkey)
      concerned.push({
        kind: RELATIONSHIP_KINDS.endpointHasTrustMonitorEvent,
        key: ENTITY_KEYS.endpoint(finding.epkey),
      });
    yield { entity, concerned };
  }
}

/** The edges the log shows devices used by: the device lists of each user's aggregate. */
const DEVICE_USE = [
  { kind: RELATIONSHIP_KINDS.userUsesPhone, devices: (user: UserAggregate) => user.phones, key: ENTITY_KEYS.phone },
  {
    kind: RELATIONSHIP_KINDS.userUsesEndpoint,
    devices: (user: UserAggregate) => user.endpoints ?? {},
    key: ENTITY_KEYS.endpoint,
  },
] as const;
export const DEVICE_USE_RELATIONSHIP_TYPES: ReadonlySet<string> = new Set(DEVICE_USE.map(({ kind }) => kind._type));

export function logGraphFacts(
  aggregates: AuthenticationAggregates,
  now: number,
  administration?: AdministrationAggregates,
  trustMonitor?: TrustMonitorAggregates,
): LogGraphFacts {
  const today = dayOf(now);
  const userType = ENTITY_KINDS.user._type;
  const integrationType = ENTITY_KINDS.integration._type;
  const userPrefix = ENTITY_KEYS.user('');

  // Active users per integration: one pass over the usage, made on first use.
  let activeUsers: Map<string, number> | undefined;
  const activeUsersOf = (integrationKey: string): number => {
    if (!activeUsers) {
      activeUsers = new Map();
      for (const byIntegration of Object.values(aggregates.usage)) {
        for (const [key, usage] of Object.entries(byIntegration)) {
          if (inWindow(usage.lastAt, now)) activeUsers.set(key, (activeUsers.get(key) ?? 0) + 1);
        }
      }
    }
    return activeUsers.get(integrationKey) ?? 0;
  };

  // `lastUsedOn` by edge key, made on first use: one pass over the users' devices.
  let deviceUse: Map<string, { kind: RelationshipKind; from: string; to: string; lastUsedOn: number }> | undefined;
  const deviceUseByKey = () => {
    if (!deviceUse) {
      deviceUse = new Map();
      for (const [userId, user] of Object.entries(aggregates.users)) {
        const userKey = ENTITY_KEYS.user(userId);
        for (const { kind, devices, key } of DEVICE_USE) {
          for (const [deviceId, lastUsedOn] of Object.entries(devices(user))) {
            if (!inWindow(lastUsedOn, now)) continue;
            const edge = directRelationship(kind, userKey, key(deviceId));
            deviceUse.set(edge._key, { kind, from: userKey, to: edge._toEntityKey, lastUsedOn });
          }
        }
      }
    }
    return deviceUse;
  };

  return {
    ...(trustMonitor && { findings: findingsOf(trustMonitor, now) }),
    ...(administration && {
      administration: {
        facts: (resolve: AdministrationResolver) => administrationGraphFacts(administration, now, resolve),
        usernames: usernamesNamed(administration),
      },
    }),

    relationshipProperties(type, key) {
      if (!DEVICE_USE_RELATIONSHIP_TYPES.has(type)) return undefined;
      const use = deviceUseByKey().get(key);
      return use && { lastUsedOn: use.lastUsedOn };
    },

    *deviceUseRelationships(exists) {
      for (const { kind, from, to, lastUsedOn } of deviceUseByKey().values()) {
        if (exists(from, ENTITY_KINDS[kind.target]._type, to))
          yield { ...directRelationship(kind, from, to), lastUsedOn };
      }
    },

    entityProperties(type, key): Record<string, string | number | boolean> | undefined {
      if (type === userType && key.startsWith(userPrefix)) {
        const user = aggregates.users[key.slice(userPrefix.length)];
        if (!user) return undefined;
        const active = inWindow(user.lastAt, now);
        return {
          lastAuthenticatedOn: user.lastAt,
          lastFactor: user.lastFactor,
          onlyWeakFactors: active && !inWindow(user.lastStrongAt, now),
          fraudReports30d: countInWindow(user.fraud, today),
          denials30d: countInWindow(user.denied, today),
        };
      }
      if (type === integrationType) {
        const integration = aggregates.integrations[key];
        if (!integration) return undefined;
        return { lastAuthenticatedOn: integration.lastAt, activeUsers30d: activeUsersOf(key) };
      }
      return undefined;
    },

    *usageRelationships(exists) {
      for (const [userId, byIntegration] of Object.entries(aggregates.usage)) {
        const userKey = ENTITY_KEYS.user(userId);
        for (const [integrationKey, usage] of Object.entries(byIntegration)) {
          if (!inWindow(usage.lastAt, now)) continue;
          const toKey = ENTITY_KEYS.integration(integrationKey);
          if (!exists(userKey, toKey)) continue;
          yield usageRelationship(userKey, toKey, usage, today);
        }
      }
    },
  };
}

function usageRelationship(userKey: string, integrationKey: string, usage: UsageAggregate, today: number) {
  return {
    ...directRelationship(RELATIONSHIP_KINDS.userUsesIntegration, userKey, integrationKey),
    failures30d: countInWindow(usage.failures, today),
    lastAuthenticatedOn: usage.lastAt,
    lastFactor: usage.lastFactor,
    lastResult: usage.lastResult,
    successes30d: countInWindow(usage.successes, today),
  };
}
