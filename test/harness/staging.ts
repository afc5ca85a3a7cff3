/** Staging as the pipeline does it, for tests that stage inputs or read outputs without a run. */
import { CONVERSION_KEY_META, conversionKey, convertedDatasetName } from '../../src/graph/converted-part';
import type { GraphInstanceContext } from '../../src/graph/converters';
import { convertPage } from '../../src/graph/page-conversion';
import type { ResourceName } from '../../src/resources/table';
import { readDatasetTexts } from '../../src/staging/json-lines';
import type { PartInfo, StagedRun } from '../../src/staging/store';

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

/** Every object of a complete NDJSON dataset, parsed, in order. */
export async function readStagedObjects<T>(run: StagedRun, dataset: string): Promise<T[]> {
  const objects: T[] = [];
  for await (const texts of readDatasetTexts(run, dataset))
    for (const text of texts) objects.push(JSON.parse(text) as T);
  return objects;
}
