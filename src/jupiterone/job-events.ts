/**
 * The job log a run leaves in JupiterOne: events posted to the synchronization job
 * (`POST …/jobs/:id/events`, `{ events: [{ name, description }] }`), named as JupiterOne's SDK
 * names them so that JupiterOne shows them as it shows any integration's — `step_end` and
 * `step_failure` per resource read, `warn_missing_permission` for a Duo grant to add,
 * `sync_upload_start`/`sync_upload_end` around the upload, `warn_incomplete_data` per partial type,
 * and `info`, `results` or `error_unexpected_error` for the run's start and end. An event name that
 * contains `error` marks the job as having errors in JupiterOne, so only a failed run uses one.
 *
 * A few events per run, never one per record. Pure: the activities decide when to post them.
 * Descriptions carry counts, types, Duo grants and error texts — never a secret (the error texts
 * are built without any, and credential-shaped text is redacted once more) and never personal data
 * (an email address or a phone number inside a text from elsewhere is masked).
 */
import { redactSecrets } from '../util/redact';

export interface JobEvent {
  name: string;
  description: string;
}

/** JupiterOne shows descriptions in a list; a long error text is cut to this. */
export const MAX_EVENT_DESCRIPTION_CHARACTERS = 1000;

/** What a run read from one Duo resource (the workflow's resource outcome). */
export interface ResourceReadOutcome {
  status: string;
  records?: number;
  pages?: number;
  reason?: string;
  errorType?: string;
  /** The Duo grant to add, when Duo refused for want of it. */
  missingGrant?: string;
}

export interface PartialTypeReason {
  type: string;
  reason: string;
}

/** How a run that did not finalize its job ended. */
export type RunEnding = 'failed' | 'cancelled' | 'terminated' | 'restarting';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
/** International numbers, as Duo stores phone numbers (`+15555550100`, `+1 555 555 0100`). */
const PHONE = /\+\d[\d ().-]{6,}\d/g;

/** Text from elsewhere (an error's message) fit for a job event: no credential, email address or phone number. */
export function outsideText(text: string): string {
  return redactSecrets(text).replace(EMAIL, '[email]').replace(PHONE, '[number]');
}

/** Outside text to go inside a sentence of ours: without its own closing period. */
function clause(text: string): string {
  return outsideText(text).replace(/[.\s]+$/, '');
}

function event(name: string, description: string): JobEvent {
  return {
    name,
    description:
      description.length <= MAX_EVENT_DESCRIPTION_CHARACTERS
        ? description
        : `${description.slice(0, MAX_EVENT_DESCRIPTION_CHARACTERS - 1)}…`,
  };
}

function count(value: number, noun: string, plural = `${noun}s`): string {
  return `${value.toLocaleString('en-US')} ${value === 1 ? noun : plural}`;
}

function stepName(resource: string): string {
  return `Fetch ${resource}`;
}

/** The run has started, and its job with it. */
export function runStartEvents(run: {
  version: string;
  instanceId: string;
  workflowId: string;
  /** The job this one replaces: the run has read Duo, and uploads its graph into this job instead. */
  replacing?: string;
}): JobEvent[] {
  const started = `duo-j1 ${run.version} started run "${outsideText(run.workflowId)}" of instance "${run.instanceId}"`;
  if (run.replacing) {
    return [
      event(
        'info',
        `${started}, and this job for it in place of job ${run.replacing}, which held objects of a graph the run does not deliver and was aborted: uploading the graph once it is built.`,
      ),
    ];
  }
  return [event('info', `${started}: reading the Duo account.`)];
}

/**
 * What the run read: per resource, in the order given, `step_end` with its records or
 * `step_failure` with the reason, and for a missing grant `warn_missing_permission` naming it.
 */
export function resourceEvents(resources: Readonly<Record<string, ResourceReadOutcome>>): JobEvent[] {
  const events: JobEvent[] = [];
  for (const [resource, outcome] of Object.entries(resources)) {
    if (outcome.status === 'complete') {
      const pages = outcome.pages === undefined ? '' : ` in ${count(outcome.pages, 'page')}`;
      events.push(
        event('step_end', `Completed step "${stepName(resource)}": ${count(outcome.records ?? 0, 'record')}${pages}.`),
      );
      continue;
    }
    if (outcome.status === 'off') {
      // JupiterOne's own runs skip a step an instance disabled with `step_skip`, too.
      events.push(event('step_skip', `Skipped step "${stepName(resource)}": ${outcome.reason ?? 'switched off'}.`));
      continue;
    }
    const reason = outcome.reason ?? `it ended ${outcome.status}`;
    events.push(
      event(
        'step_failure',
        `Step "${stepName(resource)}" failed to complete due to error. (errorCode="${outcome.errorType ?? 'UNEXPECTED_ERROR'}", reason="${outsideText(reason)}")`,
      ),
    );
    if (outcome.missingGrant) {
      events.push(
        event(
          'warn_missing_permission',
          `Duo refused to let the Admin API application read ${resource}: it needs the "${outcome.missingGrant}" permission. ` +
            'Add it in the Duo Admin Panel (Applications → the Admin API application → Permissions); until then ' +
            `JupiterOne keeps the ${resource} it already holds.`,
        ),
      );
    }
  }
  return events;
}

export function uploadStartEvent(): JobEvent {
  return event('sync_upload_start', 'Uploading collected data for synchronization...');
}

export function uploadEndEvent(uploaded: {
  entities: number;
  relationships: number;
  batches: number;
  bytes: number;
  uncompressedBytes: number;
}): JobEvent {
  const sent =
    uploaded.bytes === uploaded.uncompressedBytes
      ? count(uploaded.bytes, 'byte')
      : `${count(uploaded.bytes, 'byte')} gzipped from ${uploaded.uncompressedBytes.toLocaleString('en-US')}`;
  return event(
    'sync_upload_end',
    `Upload complete: ${count(uploaded.entities, 'entity', 'entities')} and ${count(uploaded.relationships, 'relationship')} in ${count(uploaded.batches, 'request')} (${sent}).`,
  );
}

/** One `warn_incomplete_data` per partial type, with its reason. */
export function partialTypeEvents(partialTypes: readonly PartialTypeReason[]): JobEvent[] {
  return partialTypes.map(({ type, reason }) =>
    event(
      'warn_incomplete_data',
      `Partial data: JupiterOne keeps the ${type} objects it already holds, because ${clause(reason)}.`,
    ),
  );
}

/** The run delivered everything and is about to finalize its job. */
export function runCompleteEvent(run: { partialTypes: number; entities: number; relationships: number }): JobEvent {
  const outcome =
    run.partialTypes === 0
      ? 'every type complete'
      : `partial: ${count(run.partialTypes, 'type')} keep${run.partialTypes === 1 ? 's' : ''} the data JupiterOne already holds`;
  return event(
    'results',
    `Run complete (${outcome}): ${count(run.entities, 'entity', 'entities')} and ${count(run.relationships, 'relationship')} delivered. Finalizing the synchronization job.`,
  );
}

/**
 * The run ended without finalizing: its job is aborted and JupiterOne keeps its data unchanged.
 * `reason` is the abort reason, a sentence without its capital and period ("run cancelled").
 */
export function runEndedEvent(ending: RunEnding, reason: string): JobEvent {
  const text = clause(reason);
  return event(
    ending === 'failed' ? 'error_unexpected_error' : 'info',
    `${text.charAt(0).toUpperCase()}${text.slice(1)}. The synchronization job is aborted: JupiterOne keeps its data unchanged.`,
  );
}
