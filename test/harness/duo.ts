import type { DuoClient, DuoPagesOptions } from '../../src/duo/client';
import type { DuoListEndpointName, DuoListEndpointRecords } from '../../src/resources/table';

/** Every record of a list endpoint, page after page, as the client hands them on. */
export async function listAll<N extends DuoListEndpointName>(
  client: DuoClient,
  name: N,
  options: DuoPagesOptions = {},
): Promise<DuoListEndpointRecords[N][]> {
  const records: DuoListEndpointRecords[N][] = [];
  for await (const page of client.pages(name, options)) records.push(...page.records);
  return records;
}
