/**
 * One Duo client and one JupiterOne client per instance per worker process. Sharing the Duo client
 * matters: every fetch activity of a run executes on this worker, and they must all draw from one
 * per-endpoint rate budget for the account.
 */
import { resolveSecret, type InstanceConfig } from '../config/instances';
import { DuoClient } from '../duo/client';
import { JupiterOneSyncClient } from '../jupiterone/client';
import type { ActivityDependencies } from './dependencies';

const duoClients = new WeakMap<ActivityDependencies, Map<string, DuoClient>>();
const jupiterOneClients = new WeakMap<ActivityDependencies, Map<string, JupiterOneSyncClient>>();

export function duoClientFor(deps: ActivityDependencies, instance: InstanceConfig): DuoClient {
  let clients = duoClients.get(deps);
  if (!clients) duoClients.set(deps, (clients = new Map()));
  let client = clients.get(instance.id);
  if (!client) {
    client = new DuoClient({
      apiHostname: instance.duo.apiHostname,
      integrationKey: instance.duo.integrationKey,
      secretKey: resolveSecret(instance.duo.secretKey, deps.env),
      signatureVersion: instance.duo.signatureVersion,
      requestsPerMinute: instance.duo.requestsPerMinute,
      logRequestsPerMinute: instance.logs?.requestsPerMinute,
      insecureBaseUrl: instance.duo.insecureBaseUrl,
      logger: deps.log
        ? (level, message, fields) => deps.log!(level, message, { instanceId: instance.id, ...fields })
        : undefined,
      onRetry: deps.metrics && ((reason) => deps.metrics!.duoRetry(instance.id, reason)),
      ...deps.duoClientOptions,
    });
    clients.set(instance.id, client);
  }
  return client;
}

export function jupiterOneClientFor(deps: ActivityDependencies, instance: InstanceConfig): JupiterOneSyncClient {
  if (!instance.jupiterone) throw new Error(`Instance "${instance.id}" has no JupiterOne settings`);
  let clients = jupiterOneClients.get(deps);
  if (!clients) jupiterOneClients.set(deps, (clients = new Map()));
  let client = clients.get(instance.id);
  if (!client) {
    client = new JupiterOneSyncClient({
      baseUrl: instance.jupiterone.baseUrl,
      apiKey: resolveSecret(instance.jupiterone.apiKey, deps.env),
      account: instance.jupiterone.account,
      compressUploads: instance.jupiterone.compressUploads,
      logger: deps.log
        ? (level, message, fields) => deps.log!(level, message, { instanceId: instance.id, ...fields })
        : undefined,
      ...deps.jupiterOneClientOptions,
    });
    clients.set(instance.id, client);
  }
  return client;
}
