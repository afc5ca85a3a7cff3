/** One problem with the configuration, naming the setting (environment variable or file path). */
export interface ConfigurationProblem {
  setting: string;
  message: string;
}

/**
 * The configuration is unusable. Thrown before anything runs, listing every problem found, each
 * with the setting's name. Messages never contain secret values. Not worth retrying: a person has
 * to change the configuration.
 */
export class ConfigurationError extends Error {
  constructor(readonly problems: ConfigurationProblem[]) {
    super(
      problems.length === 1
        ? `Configuration problem: ${problems[0].setting} ${problems[0].message}`
        : `${problems.length} configuration problems:\n${problems.map((p) => `  - ${p.setting} ${p.message}`).join('\n')}`,
    );
    this.name = 'ConfigurationError';
  }
}
