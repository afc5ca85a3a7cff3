/**
 * How a page of a resource's records is staged once converted: the fetch converts each page it
 * reads (page-conversion.ts) and stages the result as one part of `converted/<resource>`; the build
 * reads the parts back and applies them (build-graph.ts). What lies between them is the converted
 * batch (record-conversion.ts), serialised with `node:v8`, which keeps its typed arrays as they are.
 *
 * A part is used only as it was made: its manifest entry's size and SHA-256 must match its bytes,
 * and the dataset must have been converted with the instance context and form the reader expects
 * (`conversionKey`). Anything else is staged input not to be trusted, and the run starts over.
 */
import { deserialize, serialize } from 'node:v8';
import type { ResourceName } from '../resources/table';
import { StagedInputMissingError, partChecksum, type PartInfo, type StagedRun } from '../staging/store';
import type { GraphInstanceContext } from './converters';
import { describePhoneNumberRule } from './phone-numbers';
import type { ConvertedBatch } from './record-conversion';

/** The staged form's version: change it with the shape of `ConvertedBatch`. */
const CONVERTED_PART_FORM = 2;

/** The staged dataset of a resource's converted records. */
export function convertedDatasetName(resource: ResourceName): string {
  return `converted/${resource}`;
}

/**
 * What a resource's parts were converted with — the staged form and the instance's context — as it
 * is kept in their part log and manifest: a retried fetch keeps, and a build uses, only parts made
 * with the key it would make them with itself.
 */
export function conversionKey(context: GraphInstanceContext): string {
  // The phone number rule by its description: a `hash` key is secret and is never written down.
  return `${CONVERTED_PART_FORM}:${JSON.stringify({ ...context, phoneNumbers: describePhoneNumberRule(context.phoneNumbers) })}`;
}

/** The manifest entry naming the key (`DatasetManifest.meta`). */
export const CONVERSION_KEY_META = 'conversion';

export function encodeConvertedPart(batch: ConvertedBatch): Uint8Array {
  return serialize(batch);
}

/**
 * A converted part's batch, refused unless its bytes are what the manifest says the part holds:
 * the build reads minutes after the fetch wrote, and a part replaced or cut short in between would
 * make a graph short of records that passes for complete.
 */
export async function readConvertedPart(
  run: StagedRun,
  resource: ResourceName,
  part: PartInfo,
): Promise<ConvertedBatch> {
  const dataset = convertedDatasetName(resource);
  const bytes = await run.readPart(dataset, part.index);
  const problem =
    bytes.length !== part.bytes
      ? `${bytes.length} bytes where its manifest says ${part.bytes}`
      : part.sha256 === undefined || partChecksum(bytes) !== part.sha256
        ? 'its SHA-256 is not the one its manifest gives'
        : undefined;
  let batch: ConvertedBatch | undefined;
  if (!problem) {
    try {
      batch = deserialize(bytes) as ConvertedBatch;
    } catch {
      // Not a part this form wrote; reported below.
    }
  }
  if (!batch || batch.records?.length !== part.records) {
    const detail = problem ?? `it does not hold the ${part.records} converted records its manifest gives`;
    throw new StagedInputMissingError(run.key, dataset, `part ${part.index} is not as written: ${detail}`);
  }
  return batch;
}

/** The parts of a resource's converted dataset, refused unless converted with `key`. */
export async function convertedParts(run: StagedRun, resource: ResourceName, key: string): Promise<PartInfo[]> {
  const dataset = convertedDatasetName(resource);
  const manifest = await run.readManifest(dataset);
  if (!manifest) throw new StagedInputMissingError(run.key, dataset, 'no manifest (never completed, or removed)');
  if (manifest.meta?.[CONVERSION_KEY_META] !== key) {
    throw new StagedInputMissingError(
      run.key,
      dataset,
      'it was converted with other instance settings or by another version of duo-j1',
    );
  }
  return manifest.parts;
}
