/**
 * The one conversion seam: how a page of records the fetch has just read becomes its staged form
 * (converted-part.ts), converted once, from the records the Duo client parsed.
 *
 * Pages are converted on the fetch's own thread, while the next page is on the wire. Threads of
 * their own were measured against this on the 2-core host the benchmark runs on: each thread loads
 * the converters and compiles the data model's schemas again, parses Duo's answer a second time (the
 * client must parse it to follow the list) and sends the converted page back serialised, and the
 * two threads held about 100 MB of the worker's peak memory at 20,000 users — for about a second
 * more CPU per 20,000 users and no faster fetch on two cores shared with Duo and Temporal.
 */
import type { ResourceName } from '../resources/table';
import { partChecksum } from '../staging/store';
import { encodeConvertedPart } from './converted-part';
import type { GraphInstanceContext } from './converters';
import { convertRecords } from './record-conversion';

/** A page converted: its staged bytes, their SHA-256 and the records they hold. */
export interface ConvertedPage {
  bytes: Uint8Array;
  sha256: string;
  records: number;
}

/** Converts a page of one resource's records (parsed, their secret fields removed by the Duo client). */
export function convertPage(
  resource: ResourceName,
  records: readonly object[],
  context: GraphInstanceContext,
): ConvertedPage {
  const bytes = encodeConvertedPart(convertRecords(resource, records, context));
  return { bytes, sha256: partChecksum(bytes), records: records.length };
}
