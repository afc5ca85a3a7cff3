/** Where an instance's graph goes in JupiterOne: the API's base URL and the job's target. */
import { DEFAULT_JUPITERONE_API_BASE_URL, jupiterOneBaseUrlProblem } from '../jupiterone/base-url';
import type { JupiterOneTarget } from './instances';
import { LENGTH_LIMITS, type ProblemList, readChoice, readText } from './values';

const SOURCES = ['integration-external', 'integration-managed', 'api'] as const;

/** The JupiterOne API base URL, by the JupiterOne client's rule; the default when absent. */
export function readJupiterOneBaseUrl(value: unknown, setting: string, problems: ProblemList): string {
  const text = readText(value, setting, LENGTH_LIMITS.url, problems);
  if (text === undefined) return DEFAULT_JUPITERONE_API_BASE_URL;
  const problem = jupiterOneBaseUrlProblem(text);
  if (problem !== undefined) problems.add(setting, problem.replace(/\.$/, ''));
  return text.replace(/\/+$/, '');
}

/**
 * The synchronization job's target: a custom integration instance (`integration-external`, the
 * default, or `integration-managed`) or an API scope (`api`), exactly one of the two.
 */
export function readJupiterOneTarget(
  fields: { integrationInstanceId?: unknown; scope?: unknown; source?: unknown },
  settings: { integrationInstanceId: string; scope: string; source: string },
  problems: ProblemList,
): JupiterOneTarget {
  const instanceId =
    readText(fields.integrationInstanceId, settings.integrationInstanceId, LENGTH_LIMITS.jupiterOneName, problems) ??
    '';
  const scope = readText(fields.scope, settings.scope, LENGTH_LIMITS.jupiterOneName, problems) ?? '';
  const source =
    fields.source === undefined || fields.source === ''
      ? undefined
      : readChoice(fields.source, SOURCES, 'integration-external', settings.source, problems);
  if (instanceId && scope) {
    problems.add(settings.integrationInstanceId, `and ${settings.scope} are exclusive: set one`);
  }
  if (scope || source === 'api') {
    if (!scope) problems.add(settings.scope, 'is required when the JupiterOne source is "api"');
    return { source: 'api', scope };
  }
  if (!instanceId) {
    problems.add(
      settings.integrationInstanceId,
      `is required to send to JupiterOne: the id of your custom integration instance (or set ${settings.scope} for an API-sourced scope)`,
    );
  }
  return {
    source: source === 'integration-managed' ? 'integration-managed' : 'integration-external',
    integrationInstanceId: instanceId,
  };
}
