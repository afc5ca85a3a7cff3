/**
 * `duo-j1 validate`: are the credentials accepted, which grants does the Admin API application
 * have, and which optional sources can be read? Every endpoint the product reads is probed once
 * (list endpoints with `limit=1`), so the answer is per grant *and* per endpoint, exactly as a real
 * run would see it; an optional source the instance has switched off is not asked for.
 */
import { type DuoClient } from './client';
import {
  DUO_ENDPOINTS,
  DUO_GRANTS,
  isSourceOn,
  optionalSources,
  type DuoEndpointName,
  type DuoGrant,
  type ResourceName,
  type SourceName,
  type SourceSwitches,
} from '../resources/table';
import { explainedForSource } from '../resources/source-refusal';
import { DuoAuthenticationError, DuoNotFoundError, DuoPermissionError } from './errors';

/** The outcome of one endpoint probe. */
export interface DuoEndpointProbe {
  endpoint: DuoEndpointName;
  path: string;
  grant: DuoGrant;
  /**
   * `ok`: answered; `forbidden`: 403 (grant missing); `unauthorized`: 401; `not-found`: 404 (the
   * account's edition lacks it); `failed`: anything else; `off`: not asked, its source is switched off.
   */
  outcome: 'ok' | 'forbidden' | 'unauthorized' | 'not-found' | 'failed' | 'off';
  /** The error's (secret-free) message when the outcome is not `ok`. */
  error?: string;
}

export interface DuoGrantStatus {
  grant: DuoGrant;
  /** `present`: every endpoint needing it answered; `missing`: one answered 403; `unknown`: could not tell. */
  status: 'present' | 'missing' | 'unknown';
  endpoints: DuoEndpointName[];
}

/** An optional source: on or off for the instance, and whether Duo lets it be read. */
export interface DuoSourceStatus {
  source: SourceName;
  resource: ResourceName;
  adds: string;
  path: string;
  grant: DuoGrant;
  editions?: string;
  on: boolean;
  /** `yes`/`no` from its probe; `not asked` when switched off; `unknown` when Duo could not tell. */
  readable: 'yes' | 'no' | 'not asked' | 'unknown';
  /** Why it cannot be read. */
  problem?: string;
}

export interface DuoAccessReport {
  apiHostname: string;
  siteId: string;
  /** `valid` once Duo authenticated any probe (200 or 403); `invalid` on a 401; `unknown` when Duo was not reached. */
  credentials: 'valid' | 'invalid' | 'unknown';
  /** Why the credentials were rejected, when they were. */
  credentialsProblem?: string;
  grants: DuoGrantStatus[];
  probes: DuoEndpointProbe[];
  /** Every optional source, in table order. */
  sources: DuoSourceStatus[];
  /** True when the credentials are valid, every grant is present and every source switched on is readable. */
  ok: boolean;
}

/** Probes every endpoint (in parallel; each has its own budget) and summarises credentials and grants. */
export async function validateDuoAccess(
  client: DuoClient,
  options: { signal?: AbortSignal; sources?: SourceSwitches } = {},
): Promise<DuoAccessReport> {
  const sources = optionalSources();
  const probes = await Promise.all(
    DUO_ENDPOINTS.map(async (endpoint): Promise<DuoEndpointProbe> => {
      const base = { endpoint: endpoint.name, path: endpoint.path, grant: endpoint.grant };
      // A source's joined endpoints (the policy summary) are asked for only when it is on, too.
      const entry = sources.find(
        (candidate) =>
          candidate.endpoint.name === endpoint.name ||
          candidate.alsoReads.some((joined) => joined.name === endpoint.name),
      );
      const source = entry?.source;
      const part = entry && (entry.endpoint.paged ? 'resource' : 'properties');
      if (source && !isSourceOn(source, options.sources)) return { ...base, outcome: 'off' };
      try {
        if (endpoint.paged) {
          const pages = client.pages(endpoint.name, { pageSize: 1, signal: options.signal });
          await pages.next();
          await pages.return(undefined);
        } else {
          await client.getObject(endpoint.name, { signal: options.signal });
        }
        return { ...base, outcome: 'ok' };
      } catch (caught) {
        if (options.signal?.aborted) throw caught;
        const error = source ? explainedForSource(caught, source, part!) : caught;
        const message = error instanceof Error ? error.message : String(error);
        if (error instanceof DuoAuthenticationError) return { ...base, outcome: 'unauthorized', error: message };
        if (error instanceof DuoPermissionError) return { ...base, outcome: 'forbidden', error: message };
        if (error instanceof DuoNotFoundError) return { ...base, outcome: 'not-found', error: message };
        return { ...base, outcome: 'failed', error: message };
      }
    }),
  );

  const unauthorized = probes.find((probe) => probe.outcome === 'unauthorized');
  const authenticated = probes.some((probe) => probe.outcome === 'ok' || probe.outcome === 'forbidden');
  const credentials = unauthorized ? 'invalid' : authenticated ? 'valid' : 'unknown';

  const grants = DUO_GRANTS.map((grant): DuoGrantStatus => {
    // A source switched off says nothing of its grant; one missing from the edition (404) neither.
    const ofGrant = probes.filter(
      (probe) => probe.grant === grant && probe.outcome !== 'off' && probe.outcome !== 'not-found',
    );
    const status =
      credentials === 'invalid'
        ? 'unknown'
        : ofGrant.some((probe) => probe.outcome === 'forbidden')
          ? 'missing'
          : ofGrant.every((probe) => probe.outcome === 'ok')
            ? 'present'
            : 'unknown';
    return { grant, status, endpoints: ofGrant.map((probe) => probe.endpoint) };
  });

  const sourceStatuses = sources.map(({ source, resource, endpoint, alsoReads }): DuoSourceStatus => {
    // The source is as readable as the least readable of its endpoints (all answer alike, mostly).
    const ofSource = [endpoint, ...alsoReads].map((read) => probes.find((p) => p.endpoint === read.name)!);
    const probe = ofSource.find((p) => p.outcome !== 'ok') ?? ofSource[0]!;
    const readable =
      probe.outcome === 'off'
        ? 'not asked'
        : probe.outcome === 'ok'
          ? 'yes'
          : probe.outcome === 'forbidden' || probe.outcome === 'not-found'
            ? 'no'
            : 'unknown';
    return {
      source: source.name,
      resource,
      adds: source.adds,
      path: endpoint.path,
      grant: endpoint.grant,
      ...(source.editions ? { editions: source.editions } : {}),
      on: probe.outcome !== 'off',
      readable,
      ...(probe.error ? { problem: probe.error } : {}),
    };
  });

  return {
    apiHostname: client.apiHostname,
    siteId: client.siteId,
    credentials,
    ...(unauthorized ? { credentialsProblem: unauthorized.error } : {}),
    grants,
    probes,
    sources: sourceStatuses,
    ok:
      credentials === 'valid' &&
      grants.every((grant) => grant.status === 'present') &&
      sourceStatuses.every((source) => !source.on || source.readable === 'yes'),
  };
}
