/**
 * `duo-j1 validate`: are the credentials accepted, and which grants does the Admin API
 * application have? Every endpoint the product reads is probed once (list endpoints with
 * `limit=1`), so the answer is per grant *and* per endpoint, exactly as a real run would see it.
 */
import { type DuoClient } from './client';
import { DUO_ENDPOINTS, DUO_GRANTS, type DuoEndpointName, type DuoGrant } from '../resources/table';
import { DuoAuthenticationError, DuoPermissionError } from './errors';

/** The outcome of one endpoint probe. */
export interface DuoEndpointProbe {
  endpoint: DuoEndpointName;
  path: string;
  grant: DuoGrant;
  /** `ok`: answered; `forbidden`: 403 (grant missing); `unauthorized`: 401; `failed`: anything else. */
  outcome: 'ok' | 'forbidden' | 'unauthorized' | 'failed';
  /** The error's (secret-free) message when the outcome is not `ok`. */
  error?: string;
}

export interface DuoGrantStatus {
  grant: DuoGrant;
  /** `present`: every endpoint needing it answered; `missing`: one answered 403; `unknown`: could not tell. */
  status: 'present' | 'missing' | 'unknown';
  endpoints: DuoEndpointName[];
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
  /** True when the credentials are valid and every grant is present. */
  ok: boolean;
}

/** Probes every endpoint (in parallel; each has its own budget) and summarises credentials and grants. */
export async function validateDuoAccess(
  client: DuoClient,
  options: { signal?: AbortSignal } = {},
): Promise<DuoAccessReport> {
  const probes = await Promise.all(
    DUO_ENDPOINTS.map(async (endpoint): Promise<DuoEndpointProbe> => {
      const base = { endpoint: endpoint.name, path: endpoint.path, grant: endpoint.grant };
      try {
        if (endpoint.paged) {
          const pages = client.pages(endpoint.name, { pageSize: 1, signal: options.signal });
          await pages.next();
          await pages.return(undefined);
        } else {
          await client.getObject(endpoint.name, { signal: options.signal });
        }
        return { ...base, outcome: 'ok' };
      } catch (error) {
        if (options.signal?.aborted) throw error;
        const message = error instanceof Error ? error.message : String(error);
        if (error instanceof DuoAuthenticationError) return { ...base, outcome: 'unauthorized', error: message };
        if (error instanceof DuoPermissionError) return { ...base, outcome: 'forbidden', error: message };
        return { ...base, outcome: 'failed', error: message };
      }
    }),
  );

  const unauthorized = probes.find((probe) => probe.outcome === 'unauthorized');
  const authenticated = probes.some((probe) => probe.outcome === 'ok' || probe.outcome === 'forbidden');
  const credentials = unauthorized ? 'invalid' : authenticated ? 'valid' : 'unknown';

  const grants = DUO_GRANTS.map((grant): DuoGrantStatus => {
    const ofGrant = probes.filter((probe) => probe.grant === grant);
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

  return {
    apiHostname: client.apiHostname,
    siteId: client.siteId,
    credentials,
    ...(unauthorized ? { credentialsProblem: unauthorized.error } : {}),
    grants,
    probes,
    ok: credentials === 'valid' && grants.every((grant) => grant.status === 'present'),
  };
}
