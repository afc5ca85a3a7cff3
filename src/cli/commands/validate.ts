/**
 * `duo-j1 validate`: are the credentials accepted — JupiterOne's key, account and target, and
 * Duo's — which Duo grants are present or missing, and which optional sources are on and readable?
 */
import { loadConfig, resolveSecret, type InstanceConfig } from '../../config/instances';
import { DuoClient } from '../../duo/client';
import { validateDuoAccess, type DuoAccessReport } from '../../duo/validate';
import { ConfigurationError } from '../../config/errors';
import { describeValue } from '../../util/redact';
import { JupiterOneSyncClient } from '../../jupiterone/client';
import { ExitCode } from '../exit-codes';
import { printJson } from '../output';

/** What JupiterOne answered when asked to start a job for the instance's target. */
export interface JupiterOneAccessReport {
  /** `accepted`: a job was started (and aborted at once); `refused`: JupiterOne said no; `unreachable`: no answer. */
  status: 'accepted' | 'refused' | 'unreachable';
  target: string;
  problem?: string;
}

/**
 * Starting a job is the one call of the synchronization API that proves the key, the account and
 * the target together (a run starts its job the same way before reading Duo); the job is aborted
 * at once, with nothing uploaded, so it changes nothing.
 */
async function validateJupiterOneAccess(instance: InstanceConfig): Promise<JupiterOneAccessReport | undefined> {
  const settings = instance.jupiterone;
  if (!settings) return undefined;
  const target =
    'scope' in settings.target
      ? `scope ${settings.target.scope}`
      : `integration instance ${settings.target.integrationInstanceId}`;
  try {
    const client = new JupiterOneSyncClient({
      baseUrl: settings.baseUrl,
      apiKey: resolveSecret(settings.apiKey),
      account: settings.account,
      retry: { maxAttempts: 2 },
    });
    await client.checkAccess(settings.target);
    return { status: 'accepted', target };
  } catch (error) {
    const problem = error instanceof Error ? error.message : String(error);
    const status = (error as { status?: number }).status === undefined ? 'unreachable' : 'refused';
    return { status, target, problem };
  }
}

export async function validateCommand(flags: {
  instance?: string;
  instances?: string;
  json?: boolean;
}): Promise<number> {
  const config = loadConfig(process.env, { instancesFile: flags.instances });
  const instances = flags.instance ? config.instances.filter((i) => i.id === flags.instance) : config.instances;
  if (instances.length === 0) {
    throw new ConfigurationError([
      {
        setting: '--instance',
        message: `${describeValue(flags.instance ?? '')} is not a configured instance (configured: ${config.instances.map((i) => i.id).join(', ')})`,
      },
    ]);
  }
  const reports: (DuoAccessReport & { instanceId: string; jupiterone?: JupiterOneAccessReport })[] = [];
  for (const instance of instances) {
    // JupiterOne first, as a run checks it: its answer does not depend on Duo's.
    const jupiterone = await validateJupiterOneAccess(instance);
    const client = new DuoClient({
      apiHostname: instance.duo.apiHostname,
      integrationKey: instance.duo.integrationKey,
      secretKey: resolveSecret(instance.duo.secretKey),
      signatureVersion: instance.duo.signatureVersion,
      requestsPerMinute: instance.duo.requestsPerMinute,
      insecureBaseUrl: instance.duo.insecureBaseUrl,
    });
    const duo = await validateDuoAccess(client, { sources: instance.sources });
    reports.push({
      instanceId: instance.id,
      ...duo,
      ...(jupiterone ? { jupiterone } : {}),
      ok: duo.ok && (jupiterone === undefined || jupiterone.status === 'accepted'),
    });
  }
  if (flags.json) printJson(reports);
  else {
    for (const report of reports) {
      console.log(`Instance ${report.instanceId} (${report.apiHostname}):`);
      if (report.jupiterone) {
        const { status, target, problem } = report.jupiterone;
        console.log(
          `  JupiterOne: ${status === 'accepted' ? 'key, account and target accepted' : status} (${target})` +
            `${problem ? ` — ${problem}` : ''}`,
        );
      } else {
        console.log('  JupiterOne: not configured (runs write the local graph directory)');
      }
      console.log(
        `  Duo credentials: ${report.credentials}${report.credentialsProblem ? ` — ${report.credentialsProblem}` : ''}`,
      );
      for (const grant of report.grants) {
        const mark = grant.status === 'present' ? 'ok     ' : grant.status === 'missing' ? 'MISSING' : 'unknown';
        console.log(`  ${mark} ${grant.grant} (${grant.endpoints.join(', ')})`);
      }
      for (const probe of report.probes.filter((p) => p.outcome === 'failed')) {
        console.log(`  ! ${probe.path}: ${probe.error}`);
      }
      console.log('  Optional sources (DUO_SOURCES, or "sources" in the instances file):');
      for (const source of report.sources) {
        const readable =
          source.readable === 'yes'
            ? 'readable'
            : source.readable === 'no'
              ? 'NOT READABLE'
              : source.readable === 'not asked'
                ? 'not read'
                : 'unknown';
        const editions = source.editions ? `; ${source.editions} only` : '';
        console.log(
          `  ${source.on ? 'on ' : 'off'} ${source.source}: ${source.adds} (${source.grant}${editions}) — ${readable}` +
            `${source.on && source.problem ? ` — ${source.problem}` : ''}`,
        );
      }
    }
  }
  return reports.every((report) => report.ok) ? ExitCode.Success : ExitCode.Failure;
}
