/** What the JupiterOne simulator answers, and the errors that become its error answers. */

/** One answer, before it is written to the connection. */
export interface JupiterOneAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Answered as `{ "error": { "code", "message" } }` with `status`, as the persister does. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
