/** Exit codes of the duo-j1 command, the same for every subcommand. */
export const ExitCode = {
  /** Done; for `run`, every resource delivered. */
  Success: 0,
  /** The command or the run failed. */
  Failure: 1,
  /** Bad usage or configuration: nothing ran. */
  Usage: 2,
  /** `run`: delivered, but some types kept their previous data (partial datasets). */
  Partial: 3,
  /** `run`: another run of the instance is in progress. */
  Busy: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
