/** Staging as the pipeline does it, for tests that stage inputs or read outputs without a run. */
import { CONVERSION_KEY_META, conversionKey, convertedDatasetName } from '../../src/graph/converted-part';
import type { GraphInstanceContext } from '../../src/graph/converters';
import { convertPage } from '../../src/graph/page-conversion';
import type { ResourceName } from '../../src/resources/table';
import type { DuoTenant } from '../../src/simulators/duo/tenant-generator';
import { readDatasetTexts } from '../../src/staging/json-lines';
import { PartLog } from '../../src/staging/part-log';
import type { PartInfo, StagedRun } from '../../src/staging/store';

/** The instance context of a generated tenant, its entities tagged with `accountName`. */
export function taggedContext(tenant: DuoTenant, accountName: string): GraphInstanceContext {
  return { siteId: tenant.siteId, apiHostname: tenant.apiHostname, accountName, tagWithAccountName: true };
}

/** Records as NDJSON bytes. */
export function jsonLinesOf(records: readonly unknown[]): Buffer {
  return Buffer.from(records.map((record) => `${JSON.stringify(record)}\n`).join(''), 'utf8');
}

/**
 * Stages a resource's records as its fetch does: converted pages of `pageSize` records (the
 * converted dataset the build reads), committed with the conversion key of `context`.
 */
export async function stageRecords(
  run: StagedRun,
  resource: ResourceName,
  records: readonly object[],
  context: GraphInstanceContext,
  pageSize = Math.max(1, records.length),
): Promise<PartInfo[]> {
  const dataset = convertedDatasetName(resource);
  const parts: PartInfo[] = [];
  for (let start = 0; start === 0 || start < records.length; start += pageSize) {
    const page = convertPage(resource, records.slice(start, start + pageSize), context);
    parts.push(await run.writePart(dataset, parts.length, page.bytes, page.records, page.sha256));
  }
  await run.commitManifest(dataset, parts, { [CONVERSION_KEY_META]: conversionKey(context) });
  return parts;
}

/**
 * Stages a resource's records page by page as a list fetch does while it runs: each converted page
 * written and logged in the dataset's part log, `between()` awaited after each, and the manifest
 * committed last.
 */
export async function stageRecordsAsFetched(
  run: StagedRun,
  resource: ResourceName,
  records: readonly object[],
  context: GraphInstanceContext,
  pageSize: number,
  between: () => Promise<void>,
): Promise<PartInfo[]> {
  const dataset = convertedDatasetName(resource);
  const log = new PartLog(run, dataset, conversionKey(context));
  await log.resumePoint(undefined);
  for (let start = 0; start === 0 || start < records.length; start += pageSize) {
    const page = convertPage(resource, records.slice(start, start + pageSize), context);
    const part = await run.writePart(dataset, log.logged.length, page.bytes, page.records, page.sha256);
    const next = start + pageSize < records.length ? { nextOffset: start + pageSize } : {};
    await log.add({ ...part, sha256: page.sha256, offset: start, ...next });
    await between();
  }
  const manifest = await run.commitManifest(dataset, log.logged, { [CONVERSION_KEY_META]: conversionKey(context) });
  return manifest.parts;
}

/** Every object of a complete NDJSON dataset, parsed, in order. */
export async function readStagedObjects<T>(run: StagedRun, dataset: string): Promise<T[]> {
  const objects: T[] = [];
  for await (const texts of readDatasetTexts(run, dataset))
    for (const text of texts) objects.push(JSON.parse(text) as T);
  return objects;
}
