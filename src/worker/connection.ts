/**
 * Connecting to Temporal the way Temporal's own tools do: `@temporalio/envconfig` reads
 * `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, the `TEMPORAL_TLS_*` settings and
 * profiles from the Temporal configuration file (`TEMPORAL_CONFIG_FILE`, `TEMPORAL_PROFILE`).
 * Command-line flags override them.
 *
 * Client connections only: the commands that start and follow runs load this and never the worker
 * SDK (its native core, its workflow bundler and their dependencies, some 40 MB of a process that
 * only waits for a run). The workers' connection is made in temporal-access.ts.
 */
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';

export interface TemporalFlags {
  address?: string;
  namespace?: string;
  profile?: string;
}

export interface TemporalSettings {
  address: string;
  namespace: string;
  tls?: boolean | object;
  apiKey?: string;
  metadata?: Record<string, string>;
}

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

export function resolveTemporalSettings(
  flags: TemporalFlags = {},
  env: NodeJS.ProcessEnv = process.env,
): TemporalSettings {
  const overrideEnvVars: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) overrideEnvVars[key] = value;
  const { connectionOptions, namespace } = loadClientConnectConfig({ profile: flags.profile, overrideEnvVars });
  return {
    address: flags.address ?? connectionOptions.address ?? DEFAULT_TEMPORAL_ADDRESS,
    namespace: flags.namespace ?? namespace ?? 'default',
    tls: connectionOptions.tls as TemporalSettings['tls'],
    apiKey: connectionOptions.apiKey as string | undefined,
    metadata: connectionOptions.metadata as Record<string, string> | undefined,
  };
}

export async function connectClient(settings: TemporalSettings): Promise<Client> {
  const connection = await Connection.connect({
    address: settings.address,
    tls: settings.tls as never,
    apiKey: settings.apiKey,
    metadata: settings.metadata,
  });
  return new Client({ connection, namespace: settings.namespace });
}
