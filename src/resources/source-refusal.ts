/**
 * What a person reads when Duo refuses an optional source: which grant to add, which Duo editions
 * have it, and how to switch it off. Used where a run fetches the source and where
 * `duo-j1 validate` probes it, so both say the same.
 */
import { switchOffInWords } from '../config/sources';
import { DuoNotFoundError, DuoPermissionError } from '../duo/errors';
import type { OptionalSource } from './table';

/**
 * What to do when Duo refuses an optional source: a 403 (the grant is missing, or the edition
 * lacks it) or a 404 (the account has no such endpoint: an edition without it, as far as anyone
 * has reported). Ends the Duo client's message in place of its generic advice.
 */
function refusedSourceAdvice(
  source: OptionalSource,
  refusal: 'forbidden' | 'not-found',
  grant: string,
  until: string,
): string {
  const editions = source.editions ? `only Duo ${source.editions} accounts have ${source.adds}` : undefined;
  const fix =
    refusal === 'forbidden'
      ? `Add the "${grant}" permission to the Admin API application in the Duo Admin Panel (Applications → the Admin API application → Permissions)${editions ? `; ${editions}` : ''}`
      : `This Duo account does not offer ${source.adds}${editions ? `: ${editions}` : ''}`;
  return `${fix}. Or switch the source "${source.name}" off (${switchOffInWords(source)}); until then ${until}.`;
}

/** What a refused source costs a run: a whole resource's types, or some properties of a record. */
const UNTIL = {
  resource: 'its types stay partial, and JupiterOne keeps what it holds of them',
  properties: 'runs leave them out',
} as const;

/**
 * Duo refusing an optional source (403, 404) as an error whose message names the grant or the
 * editions that have it, and how to switch it off; other errors are left as they are. `part` says
 * what the source is: a whole resource, or properties of a record (an optional object endpoint).
 */
export function explainedForSource(error: unknown, source: OptionalSource, part: keyof typeof UNTIL): unknown {
  if (error instanceof DuoPermissionError) {
    const advice = refusedSourceAdvice(source, 'forbidden', error.grant, UNTIL[part]);
    return new DuoPermissionError(error, error.code, error.duoMessage, error.grant, advice);
  }
  if (error instanceof DuoNotFoundError) {
    const advice = refusedSourceAdvice(source, 'not-found', error.path, UNTIL[part]);
    return new DuoNotFoundError(error, error.code, error.duoMessage, advice);
  }
  return error;
}
