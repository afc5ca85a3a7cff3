/**
 * duo-j1's own Prometheus metrics, recorded through Temporal's metric meter so that they leave
 * through the same exporter as the SDK's (`duo-j1 worker --metrics`), beside `temporal_*`. Without
 * a metrics exporter the meter is a no-op and so is this.
 *
 * Labels are bounded: the instance id (a handful per worker), the Duo resource (the resource
 * table), a change kind, a retry reason. Never a user, a record or a run id.
 *
 * The counts come from what activities return (records and pages of a fetch, bytes and batches of
 * an upload, created/updated/deleted of a delivery), read by one activity interceptor
 * (`activity-context.ts`), so no activity carries metric code. Counted once per completed activity:
 * a retried attempt is not counted twice.
 */
import type { MetricMeter, MetricTags } from '@temporalio/common';
import type { ChangeCounts } from '../jupiterone/client';

/** What each metric is called, with `_total` added by Prometheus to counters. */
export const METRIC_NAMES = {
  // Recorded by the workflow (src/workflows/run-metrics.ts).
  runs: 'duo_j1_runs',
  phaseDuration: 'duo_j1_phase_duration_seconds',
  // Recorded here.
  recordsFetched: 'duo_j1_records_fetched',
  pagesFetched: 'duo_j1_pages_fetched',
  duoRetries: 'duo_j1_duo_retries',
  uploadBytes: 'duo_j1_upload_bytes',
  uploadBatches: 'duo_j1_upload_batches',
  graphChanges: 'duo_j1_graph_changes',
} as const;

/**
 * Buckets of duo-j1's histograms, for the Prometheus exporter: the SDK's defaults are made for
 * milliseconds, and a phase of a run lasts from seconds to hours.
 */
export const HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [METRIC_NAMES.phaseDuration]: [1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 21600],
};

export type DuoRetryReason = 'rate-limit' | 'transient' | 'unfollowable-page';

export interface DuoJ1Metrics {
  /** A Duo request retried: after a 429 (`rate-limit`), a 5xx or network failure, a page that cannot be followed. */
  duoRetry(instanceId: string, reason: DuoRetryReason): void;
  /** A completed activity: its type, the instance it worked for, its input and result. */
  activityCompleted(activityType: string, instanceId: string | undefined, input: unknown, result: unknown): void;
}

type Counted = Record<string, unknown> | undefined;

function asRecord(value: unknown): Counted {
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
}

export function createDuoJ1Metrics(meter: MetricMeter): DuoJ1Metrics {
  const records = meter.createCounter(METRIC_NAMES.recordsFetched, 'records', 'Duo records fetched, per resource');
  const pages = meter.createCounter(METRIC_NAMES.pagesFetched, 'pages', 'Duo list pages fetched, per resource');
  const retries = meter.createCounter(
    METRIC_NAMES.duoRetries,
    'requests',
    'Duo requests retried, by reason (rate-limit: answered 429)',
  );
  const bytes = meter.createCounter(METRIC_NAMES.uploadBytes, 'bytes', 'Bytes of upload bodies sent to JupiterOne');
  const batches = meter.createCounter(METRIC_NAMES.uploadBatches, 'batches', 'Upload batches accepted by JupiterOne');
  const changes = meter.createCounter(
    METRIC_NAMES.graphChanges,
    'objects',
    'Graph objects created, updated and deleted by deliveries',
  );

  const countChanges = (tags: MetricTags, kind: string, counts: Partial<ChangeCounts> | undefined) => {
    for (const change of ['created', 'updated', 'deleted'] as const) {
      const value = counts?.[change];
      if (typeof value === 'number' && value > 0) changes.add(value, { ...tags, kind, change });
    }
  };

  const countUpload = (tags: MetricTags, uploaded: Counted) => {
    if (!uploaded) return;
    bytes.add(Number(uploaded.bytes ?? 0), tags);
    batches.add(Number(uploaded.batches ?? 0), tags);
  };

  return {
    duoRetry(instanceId, reason) {
      retries.add(1, { instance: instanceId, reason });
    },
    activityCompleted(activityType, instanceId, input, result) {
      if (!instanceId) return;
      const tags = { instance: instanceId };
      const output = asRecord(result);
      switch (activityType.replace(/^.*\./, '')) {
        case 'fetchResource': {
          const resource = String(asRecord(input)?.resource ?? output?.resource);
          records.add(Number(output?.records ?? 0), { ...tags, resource });
          pages.add(Number(output?.pages ?? 0), { ...tags, resource });
          return;
        }
        case 'uploadGraph':
          countUpload(tags, asRecord(output?.uploaded));
          return;
        // A JupiterOne run's build uploads as it goes: what it sent, when it sent the whole graph.
        case 'buildGraphAsFetched':
          countUpload(tags, asRecord(asRecord(output?.upload)?.uploaded));
          return;
        case 'deliverLocal':
          countChanges(tags, 'object', asRecord(output?.changes) as Partial<ChangeCounts>);
          return;
        case 'finalizeSyncJob':
          countChanges(tags, 'entity', asRecord(output?.entities) as Partial<ChangeCounts>);
          countChanges(tags, 'relationship', asRecord(output?.relationships) as Partial<ChangeCounts>);
          countChanges(tags, 'mapped-relationship', asRecord(output?.mappedRelationships) as Partial<ChangeCounts>);
          return;
      }
    },
  };
}
