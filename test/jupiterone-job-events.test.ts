/** The job log's events, as pure functions: names as JupiterOne's SDK names them, texts fit to show. */
import assert from 'node:assert/strict';
import {
  MAX_EVENT_DESCRIPTION_CHARACTERS,
  partialTypeEvents,
  resourceEvents,
  runCompleteEvent,
  runEndedEvent,
  runStartEvents,
  uploadEndEvent,
} from '../src/jupiterone/job-events';

describe('JupiterOne job log events', () => {
  it('starts a job log with the run, or with the job it replaces once Duo is read', () => {
    const run = { version: '1.2.3', instanceId: 'corp', workflowId: 'duo-ingestion-corp' };
    const [first] = runStartEvents(run);
    assert.equal(first.name, 'info');
    assert.equal(
      first.description,
      'duo-j1 1.2.3 started run "duo-ingestion-corp" of instance "corp": reading the Duo account.',
    );
    const [replacing] = runStartEvents({ ...run, replacing: 'job-1' });
    assert.equal(replacing.name, 'info');
    assert.match(
      replacing.description,
      /^duo-j1 1\.2\.3 started run "duo-ingestion-corp" of instance "corp", and this job for it in place of job job-1, /,
    );
    assert.match(replacing.description, /uploading the graph once it is built\.$/);
    assert.doesNotMatch(replacing.description, /reading the Duo account/);
  });

  it('reports each resource in order, with the grant to add where Duo refused one', () => {
    const events = resourceEvents({
      account: { status: 'complete', records: 1, pages: 1 },
      admins: {
        status: 'failed',
        reason:
          'Duo denied GET /admin/v1/admins: the Admin API application needs the "Grant administrators" permission.',
        errorType: 'DuoPermissionError',
        missingGrant: 'Grant administrators',
      },
      users: { status: 'complete', records: 12_345, pages: 42 },
      phones: { status: 'failed', reason: 'timed out (SCHEDULE_TO_CLOSE)' },
    });
    assert.deepEqual(
      events.map((e) => e.name),
      ['step_end', 'step_failure', 'warn_missing_permission', 'step_end', 'step_failure'],
    );
    assert.equal(events[0].description, 'Completed step "Fetch account": 1 record in 1 page.');
    assert.equal(events[3].description, 'Completed step "Fetch users": 12,345 records in 42 pages.');
    assert.match(events[2].description, /"Grant administrators" permission\. Add it in the Duo Admin Panel/);
    assert.match(events[4].description, /\(errorCode="UNEXPECTED_ERROR", reason="timed out \(SCHEDULE_TO_CLOSE\)"\)$/);
  });

  it('keeps credentials, email addresses and phone numbers out of texts that come from elsewhere, and bounds them', () => {
    const [partial] = partialTypeEvents([
      {
        type: 'duo_user',
        reason:
          'JupiterOne answered 400: Authorization: Bearer abcdefgh12345678 for jane.doe@example.com at +1 555 555 0100.',
      },
    ]);
    assert.equal(
      partial.description,
      'Partial data: JupiterOne keeps the duo_user objects it already holds, because JupiterOne answered 400: ' +
        'Authorization: Bearer [REDACTED] for [email] at [number].',
    );
    const failed = runEndedEvent('failed', `run failed: ${'x'.repeat(5000)}`);
    assert.equal(failed.name, 'error_unexpected_error');
    assert.equal(failed.description.length, MAX_EVENT_DESCRIPTION_CHARACTERS);
    assert.ok(failed.description.startsWith('Run failed: xxx'));
  });

  it('names only a failed run with an error event, and counts in words', () => {
    assert.equal(runEndedEvent('cancelled', 'run cancelled').name, 'info');
    assert.equal(
      runEndedEvent('terminated', 'the ingestion run was terminated').description,
      'The ingestion run was terminated. The synchronization job is aborted: JupiterOne keeps its data unchanged.',
    );
    assert.equal(runEndedEvent('restarting', 'restarting the pipeline: the worker was lost').name, 'info');
    assert.equal(
      runCompleteEvent({ partialTypes: 0, entities: 1, relationships: 2_000 }).description,
      'Run complete (every type complete): 1 entity and 2,000 relationships delivered. Finalizing the synchronization job.',
    );
    assert.match(
      runCompleteEvent({ partialTypes: 1, entities: 5, relationships: 0 }).description,
      /partial: 1 type keeps/,
    );
    assert.equal(
      uploadEndEvent({ entities: 3, relationships: 4, batches: 1, bytes: 100, uncompressedBytes: 100 }).description,
      'Upload complete: 3 entities and 4 relationships in 1 request (100 bytes).',
    );
    assert.match(
      uploadEndEvent({ entities: 3, relationships: 4, batches: 2, bytes: 100, uncompressedBytes: 900 }).description,
      /in 2 requests \(100 bytes gzipped from 900\)\.$/,
    );
  });
});
