/** What the Duo simulator answers: a status and a body, in Duo's envelopes. */

/** One answer, before it is written to the connection. */
export interface DuoAnswer {
  status: number;
  body: string | Buffer;
  /** Duo's error code, for the request log. */
  code?: number;
  /** Records on a list page, for the request log. */
  records?: number;
  /** `Location` header of a forced redirect. */
  location?: string;
  /** `Retry-After` header of a 429 (only when the simulator is asked to send one). */
  retryAfter?: string;
}

/** Duo's error envelope, spaced as Duo spaces it. */
export function duoErrorAnswer(status: number, code: number, message: string, detail?: string): DuoAnswer {
  const fields = [`"code": ${code}`, `"message": ${JSON.stringify(message)}`];
  if (detail !== undefined) fields.push(`"message_detail": ${JSON.stringify(detail)}`);
  fields.push('"stat": "FAIL"');
  return { status, code, body: `{${fields.join(', ')}}` };
}

/** The message Duo sends with a status, for forced errors that do not give their own. */
export function defaultDuoMessage(status: number): string {
  switch (status) {
    case 401:
      return 'Invalid signature in request credentials';
    case 403:
      return 'Access forbidden';
    case 404:
      return 'Resource not found';
    case 429:
      return 'Too Many Requests';
    default:
      return status >= 500 ? 'Unknown internal server error' : 'Invalid request parameters';
  }
}
