/** `duo-j1 validate`: are the credentials accepted, and which Duo grants are present or missing? */
import { loadConfig, resolveSecret } from '../../config/instances';
import { DuoClient } from '../../duo/client';
import { validateDuoAccess, type DuoAccessReport } from '../../duo/validate';
import { ConfigurationError } from '../../config/errors';
import { describeValue } from '../../util/redact';
import { ExitCode } from '../exit-codes';
import { printJson } from '../output';

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
  const reports: (DuoAccessReport & { instanceId: string })[] = [];
  for (const instance of instances) {
    const client = new DuoClient({
      apiHostname: instance.duo.apiHostname,
      integrationKey: instance.duo.integrationKey,
      secretKey: resolveSecret(instance.duo.secretKey),
      signatureVersion: instance.duo.signatureVersion,
      requestsPerMinute: instance.duo.requestsPerMinute,
      insecureBaseUrl: instance.duo.insecureBaseUrl,
    });
    reports.push({ instanceId: instance.id, ...(await validateDuoAccess(client)) });
  }
  if (flags.json) printJson(reports);
  else {
    for (const report of reports) {
      console.log(`Instance ${report.instanceId} (${report.apiHostname}):`);
      console.log(
        `  credentials: ${report.credentials}${report.credentialsProblem ? ` — ${report.credentialsProblem}` : ''}`,
      );
      for (const grant of report.grants) {
        const mark = grant.status === 'present' ? 'ok     ' : grant.status === 'missing' ? 'MISSING' : 'unknown';
        console.log(`  ${mark} ${grant.grant} (${grant.endpoints.join(', ')})`);
      }
      for (const probe of report.probes.filter((p) => p.outcome === 'failed')) {
        console.log(`  ! ${probe.path}: ${probe.error}`);
      }
    }
  }
  return reports.every((report) => report.ok) ? ExitCode.Success : ExitCode.Failure;
}
