/** Instance configurations pointing at the bundled simulators, for tests. */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SCHEDULE, type InstanceConfig, type LogSettings } from '../../src/config/instances';
import { parseDuoApiHostname } from '../../src/duo/hostname';
import type { PhoneNumberPolicy } from '../../src/graph/phone-numbers';
import type { DuoSimulator } from '../../src/simulators/duo/server';
import type { JupiterOneSimulator } from '../../src/simulators/jupiterone/server';
import { temporaryDirectory } from './temporal';

export function simulatorInstance(
  duo: Pick<DuoSimulator, 'url' | 'apiHostname' | 'integrationKey' | 'secretKey'>,
  options: {
    id?: string;
    jupiterone?: JupiterOneSimulator;
    scope?: string;
    requestsPerMinute?: number;
    compressUploads?: boolean;
    phoneNumbers?: PhoneNumberPolicy;
    logs?: LogSettings;
  } = {},
): InstanceConfig {
  const instance: InstanceConfig = {
    // Unique per test: exclusivity (the instance coordinator) is per instance id in the whole namespace.
    id: options.id ?? `i-${randomUUID().slice(0, 8)}`,
    pollingInterval: 'DISABLED',
    schedule: DEFAULT_SCHEDULE,
    tagWithAccountName: false,
    phoneNumbers: options.phoneNumbers ?? 'keep',
    duo: {
      apiHostname: duo.apiHostname,
      siteId: parseDuoApiHostname(duo.apiHostname).siteId,
      integrationKey: duo.integrationKey,
      secretKey: { value: duo.secretKey, description: 'the Duo simulator secret key' },
      signatureVersion: 'v5',
      requestsPerMinute: options.requestsPerMinute ?? 60_000,
      insecureBaseUrl: duo.url,
    },
    ...(options.logs ? { logs: options.logs } : {}),
  };
  if (options.jupiterone) {
    instance.jupiterone = {
      account: options.jupiterone.account,
      apiKey: { value: options.jupiterone.apiKey, description: 'the JupiterOne simulator API key' },
      baseUrl: options.jupiterone.url,
      target: { source: 'api', scope: options.scope ?? `duo-${instance.id}` },
      compressUploads: options.compressUploads ?? true,
    };
  }
  return instance;
}

/**
 * Writes an instances file for a worker child process: secrets become `{ env }` references, with
 * their values returned as the environment to give the process.
 */
export function writeInstancesFile(instances: InstanceConfig[]): { file: string; env: Record<string, string> } {
  const env: Record<string, string> = {};
  const reference = (name: string, secret: InstanceConfig['duo']['secretKey']) => {
    if ('value' in secret) {
      env[name] = secret.value;
      return { env: name };
    }
    return secret;
  };
  const json = instances.map((instance) => ({
    id: instance.id,
    pollingInterval: instance.pollingInterval,
    apiHostname: instance.duo.apiHostname,
    integrationKey: instance.duo.integrationKey,
    secretKey: reference(`DUO_SKEY_${instance.id.replace(/-/g, '_').toUpperCase()}`, instance.duo.secretKey),
    requestsPerMinute: instance.duo.requestsPerMinute,
    insecureBaseUrl: instance.duo.insecureBaseUrl,
    ...(instance.sources ? { sources: instance.sources } : {}),
    ...(instance.logs ? { logs: instance.logs } : {}),
    ...(instance.jupiterone
      ? {
          jupiterone: {
            account: instance.jupiterone.account,
            apiKey: reference(`J1_KEY_${instance.id.replace(/-/g, '_').toUpperCase()}`, instance.jupiterone.apiKey),
            baseUrl: instance.jupiterone.baseUrl,
            ...('scope' in instance.jupiterone.target
              ? { scope: instance.jupiterone.target.scope }
              : { integrationInstanceId: instance.jupiterone.target.integrationInstanceId }),
            compressUploads: instance.jupiterone.compressUploads,
          },
        }
      : {}),
  }));
  const file = path.join(temporaryDirectory('duo-j1-instances-'), 'instances.json');
  writeFileSync(file, JSON.stringify({ instances: json }, null, 2));
  return { file, env };
}
