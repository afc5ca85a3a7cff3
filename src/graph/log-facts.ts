/**
 * Graph facts from the aggregates of Duo's authentication log (docs/logs.md): pure conversion.
 * Counts cover the 30 days up to `now` (the build's clock), so a fact ages out of the graph as the
 * days pass even while no new event arrives.
 */
import { countInWindow, dayOf, inWindow, type AuthenticationAggregates, type UsageAggregate } from '../logs/aggregates';
import { ENTITY_KEYS, ENTITY_KINDS, RELATIONSHIP_KINDS } from './data-model';
import { directRelationship } from './relationships';
import type { DirectRelationship } from './types';

export interface LogGraphFacts {
  /** Properties to add to the entity of this `_type` and `_key`; undefined when it has no log activity. */
  entityProperties(type: string, key: string): Record<string, string | number | boolean> | undefined;
  /** The `duo_user USES duo_integration` edges whose two ends `exists` accepts. */
  usageRelationships(exists: (userKey: string, integrationKey: string) => boolean): Iterable<DirectRelationship>;
}

export function logGraphFacts(aggregates: AuthenticationAggregates, now: number): LogGraphFacts {
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

  return {
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
