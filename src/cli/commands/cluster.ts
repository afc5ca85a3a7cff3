/**
 * `duo-j1 cluster setup`: prepares a Temporal namespace for duo-j1 — registers the search
 * attributes the workflow upserts (`DuoInstanceId`, `DuoOutcome`, Keyword). Safe to run again: what
 * exists is left alone. The embedded dev server of `npm start` registers them by itself.
 */
import { missingSearchAttributes } from '../../activities/coordination';
import { connectClient, resolveTemporalSettings, type TemporalFlags } from '../../worker/connection';
import { SEARCH_ATTRIBUTES } from '../../workflows/contract';
import { ExitCode } from '../exit-codes';
import { printJson } from '../output';

/** `temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD` (the proto enum's value). */
const KEYWORD = 2;

export interface ClusterFlags extends TemporalFlags {
  json?: boolean;
}

export async function clusterSetupCommand(flags: ClusterFlags): Promise<number> {
  const settings = resolveTemporalSettings(flags);
  const client = await connectClient(settings);
  try {
    const missing = await missingSearchAttributes(client);
    if (missing.length > 0) {
      await client.connection.operatorService.addSearchAttributes({
        namespace: settings.namespace,
        searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])),
      });
    }
    const present = Object.values(SEARCH_ATTRIBUTES).filter((name) => !missing.includes(name));
    if (flags.json) printJson({ namespace: settings.namespace, registered: missing, alreadyPresent: present });
    else {
      console.log(
        missing.length > 0
          ? `Registered search attributes ${missing.join(', ')} (Keyword) in namespace ${settings.namespace}.`
          : `Namespace ${settings.namespace} already has search attributes ${present.join(', ')}.`,
      );
    }
    return ExitCode.Success;
  } finally {
    await client.connection.close();
  }
}
