/**
 * What an instance id is: it names the instance's schedule, runs and output folder, so it must be
 * a plain path segment and workflow-id part. No imports, so that the workflow (which checks its
 * input), the configuration, the CLI and the output folders can all use this one rule.
 */
export const INSTANCE_ID_PATTERN = /^[a-z0-9-]{1,64}$/;

/** The rule in words, for messages. */
export const INSTANCE_ID_RULE = '1–64 characters of a-z, 0-9 and "-"';

export function isInstanceId(value: unknown): value is string {
  return typeof value === 'string' && INSTANCE_ID_PATTERN.test(value);
}
